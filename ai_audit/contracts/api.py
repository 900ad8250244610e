"""/api/contracts/: the contract registry, verification, ABI and interaction (thin)."""

from ninja import Router

router = Router(tags=["contracts"])
