"""The root NinjaAPI: its title, the error envelope's handlers and the ObjectId types. The apps'
routers are mounted on it in config/api.py (core imports no app above it)."""

from ninja import NinjaAPI

import core.jsonapi.types  # noqa: F401  (registers the ObjectId path converter and schema fields)
from core.jsonapi.errors import install_exception_handlers


def api_create() -> NinjaAPI:
    api = NinjaAPI(
        title="Crypto Books API",
        version="1.0.0",
        description="Slim JSON API of the crypto accounting back-office. Errors are always "
        '`{"error": {"code", "message", "details"}}`; lists use `limit`/`offset` with a `next` link.',
        urls_namespace="api",
    )
    install_exception_handlers(api)
    return api
