"""Puts Django's own error answers under /api/ (unknown path 404, 405, CSRF 403, 500) into the
API's error envelope, so clients parse exactly one error shape; and refuses, before anything parses
it, a request body that is too big, too deeply nested or not JSON in UTF-8 (issue 19)."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from core.errors import ErrorCode
from core.jsonapi.errors import STATUS_CODES, error_response, is_error_envelope

API_PREFIX = "/api/"
MESSAGES = {
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "Method not allowed.",
    500: "An unexpected error occurred.",
}


class ApiErrorEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if getattr(response, "streaming", False) or is_error_envelope(response.content):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response  # a JSON answer of ours (e.g. the health report's 503)
        status = response.status_code
        code = STATUS_CODES.get(status, "error")
        message = MESSAGES.get(status, response.reason_phrase or "Error.")
        details = {}
        if status == 403 and b"CSRF" in response.content:
            code, message = "csrf_failed", "CSRF verification failed: send the X-CSRFToken header."
        if status == 405 and response.has_header("Allow"):
            details = {"allowed_methods": [m.strip() for m in response["Allow"].split(",")]}
        wrapped = error_response(status, code, message, details)
        if response.has_header("Allow"):
            wrapped["Allow"] = response["Allow"]
        return wrapped

    def process_exception(self, request, exception):
        # Errors raised outside ninja (middleware, URL resolution) on API paths.
        if request.path.startswith(API_PREFIX) and not settings.DEBUG_PROPAGATE_EXCEPTIONS:
            logging.getLogger("api").exception("unhandled error on %s %s", request.method, request.path)
            return error_response(500, "internal_error", MESSAGES[500])
        return None


# --- request limits (issue 19) ---------------------------------------------------------------------------
# One bad request must never stop the service: an oversized body, JSON nested deep enough to exhaust a
# parser's stack, or a body in another media type is answered 413 / 422 / 415 here, before anything
# parses it. The limits are settings (API_MAX_JSON_BYTES, API_MAX_UPLOAD_BYTES, API_MAX_JSON_DEPTH).

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
JSON_TYPE = "application/json"
UPLOAD_TYPE = "multipart/form-data"
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than `limit`, counted on the raw bytes
    without parsing, at C speed but for a few blocks: strings are cut out (escaped backslashes and
    quotes first, then every other quote-delimited piece), the brackets left are read in blocks of
    `limit`, and only a block that could cross the limit is counted bracket by bracket. A body that
    closes more than it opened is not JSON: the parser stops there, before any nesting."""
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(None, _NOT_A_BRACKET)
    depth = 0
    for start in range(0, len(brackets), limit):
        block = brackets[start:start + limit]
        opens = block.count(b"[") + block.count(b"{")
        if depth + opens <= limit:
            depth += 2 * opens - len(block)
        else:
            for byte in block:
                depth += 1 if byte in _OPENERS else -1
                if depth > limit:
                    return True
                if depth < 0:
                    return False
        if depth < 0:
            return False
    return False


# py_ecc (imported by eth-keyfile, so by every process of the app) raises the interpreter's recursion
# limit to 100,000 when imported: a recursion in C (the json parser, bson, pydantic) then overflows the
# thread's stack and kills the process with a segfault, where it should raise RecursionError (issue 19:
# one request stopped daphne). The request handler puts a sane ceiling back once every app is loaded;
# the deepest recursion of ours (eth-keys' jacobian multiply, ~256 frames) is far below it.
SAFE_RECURSION_LIMIT = 4000


def recursion_limit_restore() -> None:
    if sys.getrecursionlimit() > SAFE_RECURSION_LIMIT:
        sys.setrecursionlimit(SAFE_RECURSION_LIMIT)


class ApiRequestLimitsMiddleware:
    """On /api/: the body's size (Content-Length, and what is actually read), its media type
    (`application/json` in UTF-8; `multipart/form-data` for uploads) and the nesting of JSON."""

    def __init__(self, get_response):
        self.get_response = get_response
        recursion_limit_restore()

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and request.method in BODY_METHODS:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        media_type, _, parameters = content_type.partition(";")
        media_type = media_type.strip().lower()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, str(ErrorCode.MALFORMED_JSON), "The Content-Length header is not a number.")
        upload = media_type == UPLOAD_TYPE
        max_bytes = settings.API_MAX_UPLOAD_BYTES if upload else settings.API_MAX_JSON_BYTES
        if length > max_bytes:
            return _too_large(max_bytes)
        if upload:
            return None  # the upload's own size check and parser take it from here
        if not media_type and length == 0:
            return None  # no body at all (e.g. POST /api/auth/logout/)
        charset = _charset(parameters)
        if media_type != JSON_TYPE or charset not in ("", "utf-8", "utf8"):
            return error_response(415, str(ErrorCode.UNSUPPORTED_MEDIA_TYPE),
                                  "Send the body as application/json in UTF-8.",
                                  {"content_type": content_type[:100], "accepted": [JSON_TYPE, UPLOAD_TYPE]})
        try:
            body = request.body  # read once, within DATA_UPLOAD_MAX_MEMORY_SIZE; ninja reuses it
        except RequestDataTooBig:
            return _too_large(max_bytes)
        if len(body) > max_bytes:
            return _too_large(max_bytes)
        if body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or b"\x00" in body[:4]:
            return error_response(415, str(ErrorCode.UNSUPPORTED_MEDIA_TYPE),
                                  "Send the body as application/json in UTF-8 (no byte order mark).")
        depth = settings.API_MAX_JSON_DEPTH
        if json_depth_exceeds(body, depth):
            return error_response(422, str(ErrorCode.NESTING_TOO_DEEP),
                                  f"The JSON body nests deeper than {depth} levels.", {"max_depth": depth})
        return None


def _charset(parameters: str) -> str:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


def _too_large(max_bytes: int):
    return error_response(413, str(ErrorCode.PAYLOAD_TOO_LARGE),
                          f"The request body is larger than {max_bytes} bytes.", {"max_bytes": max_bytes})
