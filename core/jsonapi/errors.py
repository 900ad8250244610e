"""The one error envelope of the JSON API: {"error": {"code", "message", "details"}}.

Services and routers raise the domain's errors (`core.errors`), which carry no HTTP status; this
module is the one place that gives each kind its status. The handlers registered on the root API
and `ApiErrorEnvelopeMiddleware` turn every failure, including Django's own validation errors and
404/405/CSRF answers, into the envelope.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from core import errors
from core.http_status import http_status_of
from core.jsonapi.schemas import DATE_OUT_OF_RANGE

logger = logging.getLogger("api")

STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def error_response(status: int, code: str, message: str, details: dict | None = None) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JsonResponse(body, status=status)


def _validation_details(errors: list[dict]) -> dict:
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        fields.append({"location": location, "message": error.get("msg", ""), "type": error.get("type", "")})
    return {"fields": fields}


def _handle_domain_error(request: HttpRequest, exc: errors.DomainError):
    response = error_response(http_status_of(exc), exc.code, exc.message, exc.details)
    if isinstance(exc, errors.RateLimited):
        response["Retry-After"] = str(max(1, int(exc.retry_after_seconds)))
    return response


def _handle_validation(request: HttpRequest, exc: ValidationError):
    if any(error.get("type") == "json_invalid" or error.get("msg") == "Cannot parse request body"
           for error in exc.errors):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    if any(error.get("type") == DATE_OUT_OF_RANGE for error in exc.errors):
        return error_response(422, str(errors.ErrorCode.INVALID_DATE), "A date is out of range.",
                              _validation_details(exc.errors))
    return error_response(422, "validation_error", "The request is not valid.", _validation_details(exc.errors))


def _handle_http_error(request: HttpRequest, exc: HttpError):
    status = exc.status_code
    if isinstance(exc, AuthenticationError) or status == 401:
        return error_response(401, "not_authenticated", "Authentication is required.")
    if isinstance(exc, AuthorizationError) or status == 403:
        return error_response(403, "permission_denied", "You do not have permission to do this.")
    if status == 429:
        wait = getattr(exc, "wait", None) or 1
        response = error_response(429, "rate_limited", "Too many requests; try again later.",
                                  {"retry_after_seconds": wait})
        response["Retry-After"] = str(int(wait))
        return response
    if status == 400 and "parse" in str(exc).lower():
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    return error_response(status, STATUS_CODES.get(status, "error"), str(exc))


def _handle_django_validation(request: HttpRequest, exc: DjangoValidationError):
    """A model's `full_clean()` refused a value: 422 with one entry per field, like ninja's own."""
    if hasattr(exc, "error_dict"):
        fields = [{"location": ["body", name], "message": message, "type": "invalid"}
                  for name, messages in exc.message_dict.items() for message in messages]
    else:
        fields = [{"location": ["body"], "message": message, "type": "invalid"} for message in exc.messages]
    message = fields[0]["message"] if len(fields) == 1 else "The request is not valid."
    return error_response(422, "validation_error", message, {"fields": fields})


def _handle_not_found(request: HttpRequest, exc: Exception):
    return error_response(404, "not_found", "Not found.")


def _handle_permission_denied(request: HttpRequest, exc: PermissionDenied):
    return error_response(403, "permission_denied", "You do not have permission to do this.")


def _handle_integrity(request: HttpRequest, exc: IntegrityError):
    return error_response(409, "conflict", "This conflicts with an existing record.")


def _handle_too_big(request: HttpRequest, exc: RequestDataTooBig):
    max_bytes = settings.API_MAX_JSON_BYTES
    return error_response(413, str(errors.ErrorCode.PAYLOAD_TOO_LARGE),
                          f"The request body is larger than {max_bytes} bytes.", {"max_bytes": max_bytes})


def _handle_overflow(request: HttpRequest, exc: OverflowError):
    """The safety net behind the schemas' bounds: a number too big to store (MongoDB takes 8-byte
    integers) or to compute with is the caller's mistake, never a 500."""
    logger.warning("number out of range on %s %s: %s", request.method, request.path, exc)
    return error_response(422, str(errors.ErrorCode.NUMBER_OUT_OF_RANGE),
                          "A number in the request is out of range (integers fit in 8 bytes).")


def _handle_recursion(request: HttpRequest, exc: RecursionError):
    """Behind the request-limits middleware's depth check: nesting that still exhausts a recursive
    step (a parser, a serializer) is refused, never a 500."""
    logger.warning("recursion limit on %s %s", request.method, request.path)
    return error_response(422, str(errors.ErrorCode.NESTING_TOO_DEEP), "The request nests too deeply.",
                          {"max_depth": settings.API_MAX_JSON_DEPTH})


def _handle_unexpected(request: HttpRequest, exc: Exception):
    logger.exception("unhandled error on %s %s", request.method, request.path)
    details = {"exception": f"{type(exc).__name__}: {exc}"} if settings.DEBUG else {}
    return error_response(500, "internal_error", "An unexpected error occurred.", details)


def install_exception_handlers(api) -> None:
    api.add_exception_handler(Exception, _handle_unexpected)
    api.add_exception_handler(errors.DomainError, _handle_domain_error)
    api.add_exception_handler(DjangoValidationError, _handle_django_validation)
    api.add_exception_handler(ValidationError, _handle_validation)
    api.add_exception_handler(HttpError, _handle_http_error)
    api.add_exception_handler(Http404, _handle_not_found)
    api.add_exception_handler(ObjectDoesNotExist, _handle_not_found)
    api.add_exception_handler(PermissionDenied, _handle_permission_denied)
    api.add_exception_handler(IntegrityError, _handle_integrity)
    api.add_exception_handler(RequestDataTooBig, _handle_too_big)
    api.add_exception_handler(OverflowError, _handle_overflow)
    api.add_exception_handler(RecursionError, _handle_recursion)


def is_error_envelope(content: bytes) -> bool:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]
