"""JSON API router for invoices paid in crypto (thin: parses, calls services/selectors, serialises).
Mounted at /api/invoices/ in config/api.py."""

from ninja import Router

router = Router(tags=["invoices"])
