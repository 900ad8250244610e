"""/api/ai/audit-contract/, upload-contract/, audits/, audits/{id}/, audit-statistics/ (thin)."""

from ninja import Router

ai_router = Router(tags=["audits"])
