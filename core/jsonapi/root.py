"""The root NinjaAPI: its title, the error envelope's handlers and the ObjectId types. The apps'
routers are mounted on it in config/api.py (core imports no app above it).

Its OpenAPI schema lists, on every operation, the error answers it can give, each with the one
envelope schema (issue 19): 422 (validation) everywhere, 401/403 where it needs a login, 404 where it
names an object (path or body), 400/413/415 where it takes a body, 409 on writes, 429 on the auth
endpoints. An operation's own `response={...}` entry for a status wins over these."""

from __future__ import annotations

from ninja import NinjaAPI

import core.jsonapi.types  # noqa: F401  (registers the ObjectId path converter and schema fields)
from core.jsonapi.errors import install_exception_handlers

ERROR_SCHEMA_NAME = "ErrorEnvelope"
ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable (core.errors.ErrorCode)"},
                "message": {"type": "string", "description": "for people"},
                "details": {"type": "object", "description": "for machines, e.g. the fields at fault"},
            },
        },
    },
}
ERROR_DESCRIPTIONS = {
    400: "Bad request (e.g. malformed JSON)",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found (another organization's object too)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Not application/json in UTF-8",
    422: "Validation error",
    429: "Rate limited (Retry-After)",
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def error_statuses(path: str, method: str, operation: dict) -> list[int]:
    """The error statuses an operation can answer, from what it takes."""
    statuses = {422}
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path or "requestBody" in operation or method in WRITE_METHODS:
        statuses.add(404)
    if "requestBody" in operation or method in WRITE_METHODS:
        statuses |= {400, 413, 415}
    if method in WRITE_METHODS:
        statuses.add(409)
    if "/auth/" in path:
        # Every auth endpoint is rate limited, and the public ones that take credentials (login,
        # refresh, reset, verification) answer 401 to wrong ones.
        statuses |= {401, 429}
    return sorted(statuses)


def add_error_responses(schema: dict) -> dict:
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in error_statuses(path, method, operation):
                responses.setdefault(status, {"description": ERROR_DESCRIPTIONS[status],
                                              "content": {"application/json": {"schema": reference}}})
    return schema


class CryptoBooksApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return add_error_responses(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


def api_create() -> NinjaAPI:
    api = CryptoBooksApi(
        title="Crypto Books API",
        version="1.0.0",
        description="Slim JSON API of the crypto accounting back-office. Errors are always "
        '`{"error": {"code", "message", "details"}}` (schema `ErrorEnvelope`, listed on every operation); '
        "lists use `limit`/`offset` with a `next` link. Bodies are `application/json` in UTF-8, at most "
        "2.5 MB and 64 levels deep.",
        urls_namespace="api",
    )
    install_exception_handlers(api)
    return api
