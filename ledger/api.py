"""/api/accounts/ (chart of accounts) and /api/journal-entries/: thin routers that parse, call the
ledger's services and selectors, and serialise."""

from ninja import Router

accounts_router = Router(tags=["chart of accounts"])
journal_entries_router = Router(tags=["journal entries"])
