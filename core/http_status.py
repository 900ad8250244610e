"""The HTTP status of each kind of domain error: the one mapping, used by the JSON API's error
handler and by the HTMX views and admin that answer with a status."""

from core import errors

# The status of each kind of domain error; a subclass takes its nearest listed ancestor's.
STATUS_OF_KIND: dict[type[errors.DomainError], int] = {
    errors.InvalidRequest: 400,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Expired: 410,
    errors.TooLarge: 413,
    errors.InvalidInput: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}


def http_status_of(error: errors.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF_KIND:
            return STATUS_OF_KIND[kind]
    return 400
