"""django-unfold settings: branding and a sidebar grouped by domain."""

from django.templatetags.static import static
from django.urls import reverse_lazy


def _link(title, icon, url_name, permission=None):
    item = {"title": title, "icon": icon, "link": reverse_lazy(url_name)}
    if permission:
        item["permission"] = permission
    return item


def _can_view(model_label):
    app_label, model = model_label.split(".")
    return lambda request: request.user.has_perm(f"{app_label}.view_{model}")


def _ledger_staff(request):
    from ledger.selectors import ledger_is_staff

    return ledger_is_staff(request.user)


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
                    _link("Dashboard", "dashboard", "admin:index"),
                    _link("Live operations", "monitoring", "backoffice-home"),
                    
                    {
                        "title": "Task runs",
                        "icon": "pending_actions",
                        "link": reverse_lazy("admin:core_taskrun_changelist"),
                        "permission": _can_view("core.taskrun"),
                    },
                ],
            },
            {
                "title": "People",
                "separator": True,
                "items": [
                    {
                        "title": "Users",
                        "icon": "person",
                        "link": reverse_lazy("admin:accounts_user_changelist"),
                        "permission": _can_view("accounts.user"),
                    },
                    {
                        "title": "My team",
                        "icon": "groups",
                        "link": reverse_lazy("backoffice-team"),
                        "permission": lambda request: request.user.role in ("MANAGER", "ADMIN")
                        or request.user.is_superuser,
                    },
                    {
                        "title": "Verification queue",
                        "icon": "how_to_reg",
                        "link": reverse_lazy("backoffice-verification-queue"),
                        "permission": lambda request: request.user.role in ("MANAGER", "ADMIN")
                        or request.user.is_superuser,
                    },
                    {
                        "title": "Notifications",
                        "icon": "notifications",
                        "link": reverse_lazy("admin:accounts_notification_changelist"),
                        "permission": _can_view("accounts.notification"),
                    },
                    {
                        "title": "Sessions",
                        "icon": "devices",
                        "link": reverse_lazy("admin:accounts_usersession_changelist"),
                        "permission": _can_view("accounts.usersession"),
                    },
                    {
                        "title": "Audit log",
                        "icon": "policy",
                        "link": reverse_lazy("admin:accounts_auditlogentry_changelist"),
                        "permission": _can_view("accounts.auditlogentry"),
                    },
                    {
                        "title": "Groups",
                        "icon": "group",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": _can_view("auth.group"),
                    },
                ],
            },
            {
                "title": "Books",
                "separator": True,
                "items": [
                    {
                        "title": "Chart of accounts",
                        "icon": "account_tree",
                        "link": reverse_lazy("admin:ledger_financialaccount_changelist"),
                        "permission": _ledger_staff,
                    },
                    {
                        "title": "Journal entries",
                        "icon": "receipt_long",
                        "link": reverse_lazy("admin:ledger_journalentry_changelist"),
                        "permission": _ledger_staff,
                    },
                    {
                        "title": "Trial balance",
                        "icon": "balance",
                        "link": reverse_lazy("ledger-trial-balance"),
                        "permission": _ledger_staff,
                    },
                    {"title": "Balance sheet", "icon": "account_balance_wallet",
                     "link": reverse_lazy("backoffice-balance-sheet"), "permission": _ledger_staff},
                    {"title": "Income statement", "icon": "query_stats",
                     "link": reverse_lazy("backoffice-income-statement"), "permission": _ledger_staff},
                    {"title": "Cash flow", "icon": "payments",
                     "link": reverse_lazy("backoffice-cash-flow"), "permission": _ledger_staff},
                    {"title": "Stored statements", "icon": "folder_open",
                     "link": reverse_lazy("admin:reporting_financialstatement_changelist"),
                     "permission": _ledger_staff},
                    {
                        "title": "Lock date",
                        "icon": "lock_clock",
                        "link": reverse_lazy("admin:ledger_ledgersettings_changelist"),
                        "permission": _ledger_staff,
                    },
                ],
            },
            {
                "title": "Tax",
                "separator": True,
                "items": [
                    _link("My tax reports", "request_quote", "backoffice-tax-reports"),
                    {
                        "title": "All tax reports",
                        "icon": "summarize",
                        "link": reverse_lazy("admin:reporting_taxreport_changelist"),
                        "permission": _can_view("reporting.taxreport"),
                    },
                ],
            },
            {
                "title": "Wallets & chain",
                "separator": True,
                "items": [
                    _link("My wallets", "wallet", "backoffice-wallets"),
                    _link("Portfolio", "pie_chart", "backoffice-portfolio"),
                    {
                        "title": "Wallets",
                        "icon": "account_balance_wallet",
                        "link": reverse_lazy("admin:wallets_wallet_changelist"),
                        "permission": _can_view("wallets.wallet"),
                    },
                    {
                        "title": "Transactions",
                        "icon": "swap_horiz",
                        "link": reverse_lazy("admin:wallets_transaction_changelist"),
                        "permission": _can_view("wallets.transaction"),
                    },
                    {
                        "title": "Cryptocurrencies",
                        "icon": "currency_bitcoin",
                        "link": reverse_lazy("admin:wallets_cryptocurrency_changelist"),
                        "permission": _can_view("wallets.cryptocurrency"),
                    },
                    {
                        "title": "Prices",
                        "icon": "price_change",
                        "link": reverse_lazy("admin:wallets_pricequote_changelist"),
                        "permission": _can_view("wallets.pricequote"),
                    },
                    {
                        "title": "Price alerts",
                        "icon": "notifications_active",
                        "link": reverse_lazy("admin:wallets_pricealert_changelist"),
                        "permission": _can_view("wallets.pricealert"),
                    },
                ],
            },
        ],
    },
}
