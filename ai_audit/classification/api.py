"""POST /api/transactions/classify/ and POST /api/ai/classify-transaction/ (thin)."""

from ninja import Router

transactions_router = Router(tags=["classification"])
ai_router = Router(tags=["classification"])
