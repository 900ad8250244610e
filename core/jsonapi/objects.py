"""Object-level lookups for API handlers."""

from django.db.models import QuerySet

from core.errors import ErrorCode, NotFound


def get_object_or_404(queryset: QuerySet, pk):
    """Fetch by id from an already owner-filtered queryset: another user's object and a missing one
    are indistinguishable (both 404)."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return obj
