"""The root NinjaAPI at /api/: every app's router is mounted here."""

from ninja import NinjaAPI

import core.jsonapi.types  # noqa: F401  (registers the ObjectId path converter and schema fields)
from core.jsonapi.errors import install_exception_handlers

api = NinjaAPI(
    title="Crypto Books API",
    version="1.0.0",
    description="Slim JSON API of the crypto accounting back-office. Errors are always "
    '`{"error": {"code", "message", "details"}}`; lists use `limit`/`offset` with a `next` link.',
    urls_namespace="api",
)
install_exception_handlers(api)


def _mount_routers() -> None:
    from accounts.api import employees_router, notifications_router
    from accounts.api import router as auth_router
    from core.api import router as system_router
    from ledger.api import accounts_router, journal_entries_router
    from reporting.api import reports_router, tax_reports_router
    from wallets.api import blockchain_router, exchange_rates_router, portfolio_router, transactions_router
    from wallets.api import router as wallets_router

    api.add_router("/auth/", auth_router)
    api.add_router("/employees/", employees_router)
    api.add_router("/notifications/", notifications_router)
    api.add_router("/system/", system_router)
    api.add_router("/wallets/", wallets_router)
    api.add_router("/blockchain/", blockchain_router)
    api.add_router("/transactions/", transactions_router)
    api.add_router("/exchange-rates/", exchange_rates_router)
    api.add_router("/portfolio/", portfolio_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/journal-entries/", journal_entries_router)
    api.add_router("/tax-reports/", tax_reports_router)
    api.add_router("/reports/", reports_router)


_mount_routers()
