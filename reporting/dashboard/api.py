"""GET /api/dashboard/, /api/dashboard/insights/, /api/dashboard/analytics/ (thin)."""

from ninja import Router

router = Router(tags=["dashboard"])
