"""GET /api/ai/crypto-news/ (thin)."""

from ninja import Router

ai_router = Router(tags=["news"])
