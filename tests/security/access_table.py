"""The access matrix's expectations: one row per HTTP endpoint, page and WebSocket route, written once.

`tests/security/test_access_matrix.py` walks the URL conf and the API's OpenAPI schema and fails on
any endpoint missing here (and on any row here that no longer exists), so a new endpoint cannot be
forgotten. Each row says which roles of organization A may use it on A's objects:

- `allow`: the roles of A that may (the answer is neither 401, 403 nor 404, and never a 5xx);
  every other role of A gets `denied` (403 by default; 404 where the object itself is hidden from the
  role, e.g. a plain user asking for a colleague's wallet).
- `obj`: which of A's objects fills the path parameter (see tests/security/world.py).
- Anonymous callers get 401 on every API endpoint that is not `public` (pages: a redirect to login).
- Every role of organization B: on an endpoint naming one of A's objects, 404 when B's role could use
  the endpoint at all (403 otherwise: said for any id, so it tells nothing); on any endpoint, no
  response to B ever contains one of A's object ids or A's secret marker.
- `destructive`: the request changes or removes the object; only the first allowed role of A runs it
  (on a fresh object), after every other caller.

Roles: "user" (USER), "accountant" (USER with the Accountant flag), "manager", "admin".
"""

from __future__ import annotations

from dataclasses import dataclass, field

USER, ACCOUNTANT, MANAGER, ADMIN = "user", "accountant", "manager", "admin"
A_ROLES = (USER, ACCOUNTANT, MANAGER, ADMIN)
B_ROLES = (USER, MANAGER, ADMIN)

EVERYONE = frozenset(A_ROLES)
BOOKS = frozenset({ACCOUNTANT, MANAGER, ADMIN})  # core.permissions.can_view_books / can_work_books
STAFF = frozenset({MANAGER, ADMIN})  # core.permissions.is_org_manager
ADMINS = frozenset({ADMIN})
NOBODY = frozenset()


@dataclass(frozen=True)
class Rule:
    allow: frozenset = EVERYONE
    obj: str | None = None
    body: dict | None = None
    query: str = ""
    public: bool = False
    destructive: bool = False
    denied: int = 403
    note: str = ""
    extra: dict = field(default_factory=dict)


def _entry_body(marker: str = "matrix") -> dict:
    return {"date": "2026-03-01", "description": f"{marker} entry", "line_items": [
        {"account_code": "1110", "debit_amount": "10.00"},
        {"account_code": "3100", "credit_amount": "10.00"},
    ]}


NEW_PASSWORD = "Another!Passw0rd-99"

# --- the JSON API ---------------------------------------------------------------------------------------
# Path parameters name an object of A (world.py); "{a_user}" etc. name a member of A.
API: dict[tuple[str, str], Rule] = {
    # auth: public entry points (no object; every caller gets a non-401 answer, never a 5xx)
    ("POST", "/api/auth/register/"): Rule(public=True, body={"username": "matrixnew", "email": "matrixnew@example.test",
                                                            "password": NEW_PASSWORD, "first_name": "M", "last_name": "N"}),
    ("POST", "/api/auth/verify-email/"): Rule(public=True, body={"token": "not-a-token"}),
    ("POST", "/api/auth/resend-verification/"): Rule(public=True, body={"email": "nobody@example.test"}),
    ("POST", "/api/auth/login/"): Rule(public=True, body={"username": "nobody", "password": "wrong-password"}),
    ("POST", "/api/auth/refresh/"): Rule(public=True, body={"refresh_token": "not-a-token"}),
    ("POST", "/api/auth/forgot-password/"): Rule(public=True, body={"email": "nobody@example.test"}),
    ("POST", "/api/auth/reset-password/"): Rule(public=True, body={"token": "not-a-token", "new_password": NEW_PASSWORD}),
    # auth: the caller's own session and profile
    ("POST", "/api/auth/logout/"): Rule(destructive=True, note="ends the caller's own session"),
    ("POST", "/api/auth/change-password/"): Rule(body={"old_password": "wrong-password", "new_password": NEW_PASSWORD}),
    ("GET", "/api/auth/profile/"): Rule(),
    ("PUT", "/api/auth/profile/"): Rule(body={"department": "Matrix"}),
    ("POST", "/api/auth/confirm-password/"): Rule(body={"password": "Passw0rd!long"}),
    # the organization and invitations (accounts)
    ("GET", "/api/auth/organization/"): Rule(),
    ("PUT", "/api/auth/organization/"): Rule(ADMINS, body={"fiscal_year_start_month": 4}),
    ("POST", "/api/auth/organization/leave/"): Rule(destructive=True, note="moves the caller to an organization of their own"),
    ("GET", "/api/auth/invitations/"): Rule(),
    ("POST", "/api/auth/invitations/"): Rule(STAFF, body={"email": "matrix-invitee@example.test", "role": "USER"}),
    ("POST", "/api/auth/invitations/accept-token/"): Rule(body={"token": "not-a-token"}),
    # only the invitee (someone outside A) may answer: to every member of A it is not found
    ("POST", "/api/auth/invitations/{invitation_id}/accept/"): Rule(NOBODY, obj="invitation", denied=404),
    ("POST", "/api/auth/invitations/{invitation_id}/decline/"): Rule(NOBODY, obj="invitation", denied=404),
    ("POST", "/api/auth/invitations/{invitation_id}/revoke/"): Rule(STAFF, obj="invitation", destructive=True),
    # people (accounts)
    ("POST", "/api/auth/employees/add/"): Rule(STAFF, body={"username": "matrixemp", "email": "matrixemp@example.test",
                                                             "first_name": "M", "last_name": "E"}),
    ("GET", "/api/auth/employees/"): Rule(STAFF),
    ("PUT", "/api/auth/employees/{employee_id}/status/"): Rule(STAFF, obj="employee", body={"is_active": False},
                                                              destructive=True),
    ("POST", "/api/auth/employees/add-existing/"): Rule(STAFF, body={"username": "{b_user}"},
                                                        note="an invitation to someone of a third organization: "
                                                             "never moves anyone"),
    ("DELETE", "/api/auth/employees/{employee_id}/remove/"): Rule(STAFF, obj="employee", destructive=True),
    ("GET", "/api/employees/"): Rule(STAFF),
    ("POST", "/api/employees/"): Rule(STAFF, body={"username": "matrixemp2", "email": "matrixemp2@example.test",
                                                   "first_name": "M", "last_name": "E"}),
    ("GET", "/api/employees/team/{manager_id}/"): Rule(STAFF, obj="manager"),
    ("GET", "/api/employees/{employee_id}/"): Rule(STAFF, obj="employee"),
    ("PUT", "/api/employees/{employee_id}/"): Rule(STAFF, obj="employee", body={"department": "Matrix"}),
    ("DELETE", "/api/employees/{employee_id}/"): Rule(STAFF, obj="employee", destructive=True),
    ("POST", "/api/employees/{employee_id}/verify/"): Rule(STAFF, obj="employee", body={"approve": True},
                                                          destructive=True),
    # notifications are per user: a colleague's notification is hidden (404) like another organization's
    ("GET", "/api/notifications/"): Rule(),
    ("POST", "/api/notifications/"): Rule(body={"title": "matrix", "message": "matrix"}),
    ("PUT", "/api/notifications/{notification_id}/read/"): Rule(frozenset({USER}), obj="notification", denied=404),
    ("DELETE", "/api/notifications/{notification_id}/"): Rule(frozenset({USER}), obj="notification", denied=404,
                                                             destructive=True),
    # platform
    ("GET", "/api/system/health/"): Rule(public=True),
    ("GET", "/api/system/task-runs/"): Rule(STAFF),
    ("GET", "/api/system/task-runs/{task_run_id}/"): Rule(STAFF, obj="task_run"),
    # wallets: a plain user sees the wallets they made; the books roles see every wallet of the organization
    ("GET", "/api/wallets/"): Rule(),
    ("POST", "/api/wallets/"): Rule(body={"name": "matrix wallet"}),
    ("GET", "/api/wallets/{wallet_id}/"): Rule(obj="wallet"),
    ("PUT", "/api/wallets/{wallet_id}/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet", body={"name": "renamed"}),
    ("DELETE", "/api/wallets/{wallet_id}/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet", destructive=True),
    ("GET", "/api/wallets/{wallet_id}/balance/"): Rule(obj="wallet"),
    ("POST", "/api/wallets/{wallet_id}/monitor/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet", body={}),
    ("POST", "/api/wallets/{wallet_id}/challenge/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet"),
    ("POST", "/api/wallets/{wallet_id}/verify-ownership/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet",
                                                                 body={"signature": "0x00"}),
    ("POST", "/api/blockchain/send-eth/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet",
                                                body={"wallet_id": "{wallet}", "to": "0x000000000000000000000000000000000000dEaD",
                                                      "amount": "0.001"}, extra={"idempotency": True}),
    # any hash: what the node says is public chain data (A's own records of it are not shown to B)
    ("GET", "/api/blockchain/transaction/{tx_hash}/"): Rule(obj="chain_tx", extra={"chain_data": True}),
    ("GET", "/api/blockchain/transaction-status/{tx_hash}/"): Rule(obj="chain_tx", extra={"chain_data": True}),
    ("GET", "/api/blockchain/estimate-gas/"): Rule(query="from_address={wallet_address}&to=0x000000000000000000000000000000000000dEaD&amount=0.01"),
    ("POST", "/api/blockchain/wallet-monitoring/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet",
                                                         body={"wallet_id": "{wallet}"}),
    ("GET", "/api/transactions/"): Rule(),
    ("POST", "/api/transactions/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="wallet", body={
        "wallet_id": "{wallet}", "asset": "ETH", "transaction_type": "BUY", "amount": "0.5",
        "transaction_date": "2026-02-01T10:00:00Z", "price_at_transaction": "2000"}),
    ("POST", "/api/transactions/import/"): Rule(extra={"multipart": True}),
    ("GET", "/api/transactions/export/"): Rule(),
    ("GET", "/api/transactions/history/"): Rule(),
    ("GET", "/api/transactions/category/{category}/"): Rule(obj="category"),
    ("GET", "/api/transactions/{transaction_id}/"): Rule(obj="transaction"),
    # the business fields (description, category, purpose): the owner, the books roles and managers
    ("PUT", "/api/transactions/{transaction_id}/"): Rule(obj="transaction", body={"description": "matrix"}),
    ("DELETE", "/api/transactions/{transaction_id}/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="transaction",
                                                           destructive=True),
    ("GET", "/api/exchange-rates/"): Rule(),
    ("POST", "/api/exchange-rates/convert/"): Rule(body={"asset": "ETH", "amount": "1"}),
    ("GET", "/api/exchange-rates/portfolio-value/"): Rule(),
    ("GET", "/api/exchange-rates/alerts/"): Rule(),
    ("POST", "/api/exchange-rates/alerts/"): Rule(body={"asset": "ETH", "direction": "above", "threshold": "99999"}),
    ("GET", "/api/exchange-rates/alerts/{alert_id}/"): Rule(obj="alert"),
    ("PUT", "/api/exchange-rates/alerts/{alert_id}/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="alert",
                                                           body={"threshold": "88888"}),
    ("DELETE", "/api/exchange-rates/alerts/{alert_id}/"): Rule(frozenset({USER, MANAGER, ADMIN}), obj="alert",
                                                              destructive=True),
    ("GET", "/api/portfolio/"): Rule(),
    ("GET", "/api/portfolio/value/"): Rule(),
    ("GET", "/api/portfolio/allocation/"): Rule(),
    ("GET", "/api/portfolio/performance/"): Rule(),
    ("GET", "/api/portfolio/history/"): Rule(),
    # the books: accountants, managers and admins; posting and reversing: managers and admins
    ("GET", "/api/accounts/"): Rule(BOOKS),
    ("POST", "/api/accounts/"): Rule(BOOKS, body={"account_code": "1998", "account_name": "matrix", "account_type": "asset"}),
    ("GET", "/api/accounts/{account_id}/"): Rule(BOOKS, obj="account"),
    ("PUT", "/api/accounts/{account_id}/"): Rule(BOOKS, obj="account", body={"account_name": "renamed"}),
    ("DELETE", "/api/accounts/{account_id}/"): Rule(BOOKS, obj="account", destructive=True),
    ("GET", "/api/journal-entries/"): Rule(BOOKS),
    ("POST", "/api/journal-entries/"): Rule(BOOKS, body=_entry_body()),
    ("GET", "/api/journal-entries/trial-balance/"): Rule(BOOKS),
    ("GET", "/api/journal-entries/lock-date/"): Rule(BOOKS),
    ("PUT", "/api/journal-entries/lock-date/"): Rule(ADMINS, body={"lock_date": "2020-01-31"}),
    ("GET", "/api/journal-entries/{entry_id}/"): Rule(BOOKS, obj="entry"),
    ("PUT", "/api/journal-entries/{entry_id}/"): Rule(BOOKS, obj="entry", body=_entry_body("edited")),
    ("DELETE", "/api/journal-entries/{entry_id}/"): Rule(BOOKS, obj="entry", destructive=True),
    ("POST", "/api/journal-entries/{entry_id}/post/"): Rule(STAFF, obj="entry", destructive=True),
    ("POST", "/api/journal-entries/{entry_id}/reverse/"): Rule(STAFF, obj="posted_entry", body={}, destructive=True),
    # tax reports and statements
    ("GET", "/api/tax-reports/"): Rule(BOOKS),
    ("POST", "/api/tax-reports/generate/"): Rule(BOOKS, body={"report_type": "ANNUAL", "year": 2026}),
    ("POST", "/api/tax-reports/daily/"): Rule(BOOKS, body={}),
    ("POST", "/api/tax-reports/weekly/"): Rule(BOOKS, body={}),
    ("POST", "/api/tax-reports/monthly/"): Rule(BOOKS, body={}),
    ("POST", "/api/tax-reports/quarterly/"): Rule(BOOKS, body={}),
    ("POST", "/api/tax-reports/yearly/"): Rule(BOOKS, body={}),
    ("POST", "/api/tax-reports/custom/"): Rule(BOOKS, body={"start_date": "2026-01-01", "end_date": "2026-06-30"}),
    ("GET", "/api/tax-reports/{report_id}/"): Rule(BOOKS, obj="tax_report"),
    ("DELETE", "/api/tax-reports/{report_id}/"): Rule(BOOKS, obj="tax_report", destructive=True),
    ("GET", "/api/tax-reports/{report_id}/pdf/"): Rule(BOOKS, obj="tax_report"),
    ("GET", "/api/tax-reports/{report_id}/xlsx/"): Rule(BOOKS, obj="tax_report"),
    ("GET", "/api/tax-reports/{report_id}/csv/"): Rule(BOOKS, obj="tax_report"),
    ("POST", "/api/reports/balance-sheet/"): Rule(BOOKS, body={}),
    ("POST", "/api/reports/income-statement/"): Rule(BOOKS, body={"start_date": "2026-01-01", "end_date": "2026-06-30"}),
    ("POST", "/api/reports/cash-flow/"): Rule(BOOKS, body={"start_date": "2026-01-01", "end_date": "2026-06-30"}),
    ("GET", "/api/reports/balance-sheets/"): Rule(BOOKS),
    ("GET", "/api/reports/income-statements/"): Rule(BOOKS),
    ("GET", "/api/reports/cash-flows/"): Rule(BOOKS),
    ("GET", "/api/reports/{statement_id}/"): Rule(BOOKS, obj="statement"),
    ("DELETE", "/api/reports/{statement_id}/"): Rule(BOOKS, obj="statement", destructive=True),
    ("GET", "/api/reports/{statement_id}/excel/"): Rule(BOOKS, obj="statement"),
    ("GET", "/api/reports/{statement_id}/pdf/"): Rule(BOOKS, obj="statement"),
}

# --- back-office pages (/app/...) ---------------------------------------------------------------------
# Anonymous callers are sent to the login page; a role that may not see a page gets the friendly 403.
PAGES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): Rule(public=True),
    ("GET", "/app/"): Rule(),
    ("GET", "/app/login/"): Rule(public=True),
    ("POST", "/app/logout/"): Rule(public=True, destructive=True),
    ("GET", "/app/task-runs/"): Rule(STAFF),
    ("POST", "/app/task-runs/start/"): Rule(STAFF, body={}),
    ("GET", "/app/register/"): Rule(public=True),
    ("GET", "/app/verify-email/"): Rule(public=True),
    ("GET", "/app/reset-password/"): Rule(public=True),
    ("GET", "/app/organization/"): Rule(),
    ("POST", "/app/organization/"): Rule(ADMINS, body={"fiscal_year_start_month": "4"}),
    ("GET", "/app/team/"): Rule(STAFF),
    ("POST", "/app/team/invite/"): Rule(STAFF, body={"email": "matrix-page-invitee@example.test", "role": "USER"}),
    ("POST", "/app/team/invitations/{invitation_id}/revoke/"): Rule(STAFF, obj="invitation", destructive=True),
    ("GET", "/app/invitations/"): Rule(),
    ("GET", "/app/invitations/accept/"): Rule(public=True),
    ("POST", "/app/invitations/{invitation_id}/accept/"): Rule(NOBODY, obj="invitation", denied=404),
    ("POST", "/app/invitations/{invitation_id}/decline/"): Rule(NOBODY, obj="invitation", denied=404),
    ("GET", "/app/team/verification/"): Rule(STAFF),
    ("POST", "/app/team/{employee_id}/decide/"): Rule(STAFF, obj="employee", body={"decision": "approve"},
                                                     destructive=True),
    ("GET", "/app/wallets/"): Rule(),
    ("POST", "/app/wallets/{wallet_id}/balance/"): Rule(obj="wallet"),
    ("GET", "/app/portfolio/"): Rule(),
    ("GET", "/app/portfolio/value-chart/"): Rule(),
    ("GET", "/app/ledger/trial-balance/"): Rule(BOOKS),
    ("GET", "/app/tax-reports/"): Rule(BOOKS),
    ("POST", "/app/tax-reports/generate/"): Rule(BOOKS, body={"report_type": "YEARLY", "year": "2026"}),
    ("GET", "/app/tax-reports/{report_id}/row/"): Rule(BOOKS, obj="tax_report"),
    ("GET", "/app/reports/balance-sheet/"): Rule(BOOKS),
    ("GET", "/app/reports/income-statement/"): Rule(BOOKS),
    ("GET", "/app/reports/cash-flow/"): Rule(BOOKS),
    ("POST", "/app/reports/{slug}/save/"): Rule(BOOKS, obj="statement_slug", body={}),
}

# --- WebSocket routes ---------------------------------------------------------------------------------
# Who may connect; what each connection may receive is checked by publishing A's events to every A
# group and asserting that no connection of B (nor a role of A without the right) receives them.
WEBSOCKETS: dict[str, frozenset] = {
    "/ws/live/": EVERYONE,
    "/ws/notifications/": EVERYONE,
    "/ws/admin/task-logs/": STAFF,
    "/ws/admin/dashboard-stats/": STAFF,
    "/ws/admin/user-management/": STAFF,
    "/ws/admin/manager-verification/": STAFF,
}

# --- Rows of the apps that keep theirs in tests/security/rows/<app>.py -------------------------------
from tests.security.rows import app_row_modules  # noqa: E402  (after the shared names the modules use)

for _module in app_row_modules():
    API.update(getattr(_module, "API", {}))
    PAGES.update(getattr(_module, "PAGES", {}))
    WEBSOCKETS.update(getattr(_module, "WEBSOCKETS", {}))
