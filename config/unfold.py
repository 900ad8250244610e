"""django-unfold settings: branding and a sidebar grouped by domain.

Every sidebar item asks core.permissions (the same predicate the page or admin behind it asks):
books for those who may view them, people for those who manage the team, installation-wide settings
(role groups) for platform superusers.
"""

from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.functional import lazy

from core import permissions

MISSING_LINK = "#"


def _reverse_or_missing(url_name: str) -> str:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return MISSING_LINK


# A link whose page is gone (an app renamed or dropped an admin) hides its item instead of breaking
# every admin page with NoReverseMatch.
_link_to = lazy(_reverse_or_missing, str)


def _allowed(predicate, url_name):
    """A sidebar item shown to whom `predicate` (core.permissions) allows, inside the admin (which
    only those who `can_open_admin` reach)."""

    def check(request):
        return (permissions.can_open_admin(request.user) and predicate(request.user)
                and _reverse_or_missing(url_name) != MISSING_LINK)

    return check


def _item(title, icon, url_name, predicate):
    return {"title": title, "icon": icon, "link": _link_to(url_name), "permission": _allowed(predicate, url_name)}


UNFOLD = {
    "SITE_TITLE": "Crypto Books",
    "SITE_HEADER": "Crypto Books",
    "SITE_SUBHEADER": "Crypto accounting back-office",
    "SITE_SYMBOL": "account_balance",
    "SITE_URL": "/app/",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": [lambda request: static("backoffice/backoffice.css")],
    "COLORS": {
        "primary": {
            "50": "oklch(97.7% .014 308.299)",
            "100": "oklch(94.6% .033 307.174)",
            "200": "oklch(90.2% .063 306.703)",
            "300": "oklch(82.7% .119 306.383)",
            "400": "oklch(71.4% .203 305.504)",
            "500": "oklch(62.7% .265 303.9)",
            "600": "oklch(55.8% .288 302.321)",
            "700": "oklch(49.6% .265 301.924)",
            "800": "oklch(43.8% .218 303.724)",
            "900": "oklch(38.1% .176 304.987)",
            "950": "oklch(29.1% .149 302.717)",
        }
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": [
            {
                "title": "Back-office",
                "items": [
                    _item("Dashboard", "dashboard", "admin:index", permissions.can_open_admin),
                    _item("Live operations", "monitoring", "backoffice-home", permissions.can_use_backoffice),
                    _item("Task runs", "pending_actions", "admin:core_taskrun_changelist",
                          permissions.can_view_task_runs),
                ],
            },
            {
                "title": "People",
                "separator": True,
                "items": [
                    _item("Users", "person", "admin:accounts_user_changelist", permissions.can_manage_team),
                    _item("My team", "groups", "backoffice-team", permissions.can_manage_team),
                    _item("Verification queue", "how_to_reg", "backoffice-verification-queue",
                          permissions.can_manage_team),
                    _item("Notifications", "notifications", "admin:accounts_notification_changelist",
                          permissions.can_manage_team),
                    _item("Sessions", "devices", "admin:accounts_usersession_changelist", permissions.can_manage_team),
                    _item("Audit log", "policy", "admin:accounts_auditlogentry_changelist",
                          permissions.can_manage_team),
                    _item("Groups", "group", "admin:auth_group_changelist", permissions.can_manage_platform),
                ],
            },
            {
                "title": "Books",
                "separator": True,
                "items": [
                    _item("Chart of accounts", "account_tree", "admin:ledger_financialaccount_changelist",
                          permissions.can_view_books),
                    _item("Journal entries", "receipt_long", "admin:ledger_journalentry_changelist",
                          permissions.can_view_books),
                    _item("Trial balance", "balance", "ledger-trial-balance", permissions.can_view_books),
                    _item("Balance sheet", "account_balance_wallet", "backoffice-balance-sheet",
                          permissions.can_view_books),
                    _item("Income statement", "query_stats", "backoffice-income-statement", permissions.can_view_books),
                    _item("Cash flow", "payments", "backoffice-cash-flow", permissions.can_view_books),
                    _item("Stored statements", "folder_open", "admin:reporting_financialstatement_changelist",
                          permissions.can_view_books),
                    _item("Lock date", "lock_clock", "admin:ledger_lockdate_changelist", permissions.can_view_books),
                ],
            },
            {
                "title": "Tax",
                "separator": True,
                "items": [
                    _item("My tax reports", "request_quote", "backoffice-tax-reports", permissions.can_use_backoffice),
                    _item("All tax reports", "summarize", "admin:reporting_taxreport_changelist",
                          permissions.can_view_books),
                ],
            },
            {
                "title": "Wallets & chain",
                "separator": True,
                "items": [
                    _item("My wallets", "wallet", "backoffice-wallets", permissions.can_use_backoffice),
                    _item("Portfolio", "pie_chart", "backoffice-portfolio", permissions.can_use_backoffice),
                    _item("Wallets", "account_balance_wallet", "admin:wallets_wallet_changelist",
                          permissions.can_view_all_wallets),
                    _item("Transactions", "swap_horiz", "admin:wallets_transaction_changelist",
                          permissions.can_view_all_wallets),
                    _item("Cryptocurrencies", "currency_bitcoin", "admin:wallets_cryptocurrency_changelist",
                          permissions.can_open_admin),
                    _item("Prices", "price_change", "admin:wallets_pricequote_changelist", permissions.can_open_admin),
                    _item("Price alerts", "notifications_active", "admin:wallets_pricealert_changelist",
                          permissions.can_open_admin),
                ],
            },
        ],
    },
}
