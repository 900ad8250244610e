"""The JSON API at /api/: the root NinjaAPI (core.jsonapi.root: error envelope, types) with every
app's router mounted. Routers are mounted here, where the URLs are, so core never imports the apps."""

from accounts.api import employees_router, notifications_router
from accounts.api import router as auth_router
from ai_audit.audits.api import ai_router as audits_router
from ai_audit.classification.api import ai_router as classify_router
from ai_audit.classification.api import transactions_router as transaction_classify_router
from ai_audit.contracts.api import router as contracts_router
from ai_audit.news.api import ai_router as news_router
from core.api import router as system_router
from core.jsonapi.root import api_create
from invoicing.api import router as invoices_router
from ledger.api import accounts_router, journal_entries_router
from payroll.api import payslips_router, periods_router
from reporting.api import reports_router, tax_reports_router
from reporting.dashboard.api import router as dashboard_router
from reporting.portfolio_api import exchange_portfolio_router, portfolio_router
from wallets.api import blockchain_router, exchange_rates_router, transactions_router
from wallets.api import router as wallets_router

api = api_create()
api.add_router("/auth/", auth_router)
api.add_router("/employees/", employees_router)
api.add_router("/notifications/", notifications_router)
api.add_router("/system/", system_router)
api.add_router("/wallets/", wallets_router)
api.add_router("/blockchain/", blockchain_router)
api.add_router("/transactions/", transactions_router)
api.add_router("/transactions/", transaction_classify_router)  # classify/: ai_audit's pipeline
api.add_router("/exchange-rates/", exchange_rates_router)
api.add_router("/exchange-rates/", exchange_portfolio_router)  # portfolio-value/: a portfolio read
api.add_router("/portfolio/", portfolio_router)
api.add_router("/accounts/", accounts_router)
api.add_router("/journal-entries/", journal_entries_router)
api.add_router("/tax-reports/", tax_reports_router)
api.add_router("/reports/", reports_router)
api.add_router("/invoices/", invoices_router)
api.add_router("/payroll/periods/", periods_router)
api.add_router("/payslips/", payslips_router)
api.add_router("/dashboard/", dashboard_router)
api.add_router("/contracts/", contracts_router)
api.add_router("/ai/", classify_router)
api.add_router("/ai/", audits_router)
api.add_router("/ai/", news_router)
