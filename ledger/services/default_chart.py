"""The default chart of accounts every organization starts with, and the accounts the automatic
journals find by role (`system_key`): the default chart's, and one crypto asset account per asset,
made on first use."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections

from core.errors import Conflict, ErrorCode, InvalidInput
from core.models import Organization
from ledger.models import AccountType, FinancialAccount
from ledger.services.chart import ACCOUNT_CODE_RE, accounts_of, reporting_fiat_of

# (system key, code, name, type, parent code, description): the default chart. The automatic
# journals find their accounts by system key (chart_account_get).
DEFAULT_CHART = (
    ("assets", "1000", "Assets", AccountType.ASSET, "", "Everything the business owns."),
    ("cash_and_bank", "1100", "Cash and bank", AccountType.ASSET, "1000", ""),
    ("cash", "1110", "Cash", AccountType.ASSET, "1100", "Fiat cash on hand."),
    ("bank", "1120", "Bank", AccountType.ASSET, "1100", "Fiat bank accounts."),
    ("crypto_assets", "1200", "Crypto assets", AccountType.ASSET, "1000",
     "One child account per asset, carried at cost."),
    ("receivables", "1300", "Accounts receivable", AccountType.ASSET, "1000", "Invoices not yet paid."),
    ("liabilities", "2000", "Liabilities", AccountType.LIABILITY, "", "Everything the business owes."),
    ("payables", "2100", "Accounts payable", AccountType.LIABILITY, "2000", "Bills not yet paid."),
    ("payroll_liabilities", "2200", "Payroll liabilities", AccountType.LIABILITY, "2000",
     "Salaries and withholdings owed."),
    ("tax_payable", "2300", "Tax payable", AccountType.LIABILITY, "2000", ""),
    ("equity_root", "3000", "Equity", AccountType.EQUITY, "", ""),
    ("equity", "3100", "Owner's capital", AccountType.EQUITY, "3000", "Capital put in by the owners."),
    ("retained_earnings", "3200", "Retained earnings", AccountType.EQUITY, "3000", ""),
    ("revenue_root", "4000", "Revenue", AccountType.REVENUE, "", ""),
    ("revenue", "4100", "Sales revenue", AccountType.REVENUE, "4000", ""),
    ("crypto_income", "4200", "Crypto income", AccountType.REVENUE, "4000", "Staking, rewards, airdrops."),
    ("realised_gains", "4300", "Realised gains", AccountType.REVENUE, "4000", "Gains on disposals of crypto."),
    ("fx_gains", "4400", "Realised exchange gains", AccountType.REVENUE, "4000",
     "Crypto received for an invoice worth more than its fiat total."),
    ("expenses", "5000", "Expenses", AccountType.EXPENSE, "", "Operating expenses."),
    ("general_expenses", "5100", "General expenses", AccountType.EXPENSE, "5000", ""),
    ("salaries", "5200", "Salaries", AccountType.EXPENSE, "5000", ""),
    ("gas_fees", "5300", "Gas fees", AccountType.EXPENSE, "5000", "Network fees paid on chain."),
    ("realised_losses", "5400", "Realised losses", AccountType.EXPENSE, "5000", "Losses on disposals of crypto."),
    ("fx_losses", "5500", "Realised exchange losses", AccountType.EXPENSE, "5000",
     "Crypto received for an invoice worth less than its fiat total."),
)
DEFAULT_CHART_KEYS = tuple(row[0] for row in DEFAULT_CHART)
CRYPTO_ACCOUNT_PARENT_KEY = "crypto_assets"


def chart_of_accounts_ensure_default(*, organization_id, currency: str | None = None,
                                     using: str = DEFAULT_DB_ALIAS) -> int:
    """Create the accounts of the default chart the organization is missing (in `currency`, default
    its reporting fiat). Idempotent: a second run creates nothing and never overwrites an account
    edited by hand (an existing account with a default code is adopted). Crypto asset accounts are
    not made here but on first use (crypto_asset_account_get_or_create). Returns how many accounts
    it created."""
    if organization_id is None:
        raise ValueError("the default chart of which organization? organization_id is required")
    existing = {a.account_code: a for a in accounts_of(organization_id, using)}
    keys_taken = {a.system_key for a in existing.values() if a.system_key}
    currency = currency or reporting_fiat_of(organization_id, using)
    missing = []
    for key, code, name, account_type, parent, description in DEFAULT_CHART:
        if key in keys_taken:
            continue
        account = existing.get(code)
        if account is not None:
            if not account.system_key:
                accounts_of(organization_id, using).filter(pk=account.pk, system_key=None).update(system_key=key)
            continue
        missing.append(FinancialAccount(organization_id=organization_id, account_code=code, account_name=name,
                                        account_type=account_type, parent_account=parent, description=description,
                                        system_key=key, currency=currency))
    if not missing:
        return 0
    connection = connections[using]
    if not existing or connection.in_atomic_block_mongo:
        # A new organization (or inside its creator's transaction): one insert for the whole chart.
        try:
            FinancialAccount.objects.using(using).bulk_create(missing)
            return len(missing)
        except IntegrityError:
            if connection.in_atomic_block_mongo:
                raise
            return chart_of_accounts_ensure_default(organization_id=organization_id, currency=currency, using=using)
    created = 0
    for account in missing:
        try:
            account.save(using=using)
        except IntegrityError:
            continue  # another process made it a moment ago
        created += 1
    return created


def chart_of_accounts_ensure_all(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """The default chart for every organization that lacks part of it (post_migrate). One read of
    the default accounts, then only the incomplete organizations are completed."""
    complete: dict = {}
    for account in FinancialAccount.objects.using(using).filter(system_key__in=DEFAULT_CHART_KEYS).only(
            "organization_id", "system_key"):
        complete.setdefault(account.organization_id, set()).add(account.system_key)
    created = 0
    for organization in Organization.objects.using(using).only("pk", "reporting_fiat").order_by("pk"):
        if len(complete.get(organization.pk, ())) == len(DEFAULT_CHART_KEYS):
            continue
        created += chart_of_accounts_ensure_default(organization_id=organization.pk,
                                                    currency=organization.reporting_fiat, using=using)
    return created


def chart_account_get(*, key: str, organization_id) -> FinancialAccount:
    """An account of the organization's default chart by its role: "cash", "equity", "expenses",
    "crypto_income", "realised_gains", "realised_losses", "gas_fees", "salaries", ... (the chart is
    completed if the account is missing)."""
    if key not in DEFAULT_CHART_KEYS:
        raise ValueError(f"unknown chart account {key!r}")
    if organization_id is None:
        raise ValueError("the chart of which organization? organization_id is required")
    account = accounts_of(organization_id).filter(system_key=key).first()
    if account is None:
        chart_of_accounts_ensure_default(organization_id=organization_id)
        account = accounts_of(organization_id).get(system_key=key)
    return account


def crypto_asset_account_get_or_create(*, symbol: str, organization_id,
                                       using: str = DEFAULT_DB_ALIAS) -> FinancialAccount:
    """The organization's crypto asset account of an asset ("1200-ETH" under Crypto assets), made on
    first use."""
    if organization_id is None:
        raise ValueError("the chart of which organization? organization_id is required")
    symbol = (symbol or "").strip().upper()
    if not symbol or not ACCOUNT_CODE_RE.match(symbol) or len(symbol) > 20:
        raise InvalidInput(ErrorCode.INVALID_SYMBOL, "Not an asset symbol.")
    key = f"crypto:{symbol}"
    accounts = accounts_of(organization_id, using)
    account = accounts.filter(system_key=key).first()
    if account is not None:
        return account
    parent = accounts.filter(system_key=CRYPTO_ACCOUNT_PARENT_KEY).first()
    if parent is None:
        chart_of_accounts_ensure_default(organization_id=organization_id, using=using)
        parent = accounts_of(organization_id, using).get(system_key=CRYPTO_ACCOUNT_PARENT_KEY)
    account = FinancialAccount(organization_id=organization_id, account_code=f"{parent.account_code}-{symbol}",
                               account_name=f"Crypto asset {symbol}", account_type=AccountType.ASSET,
                               parent_account=parent.account_code, description=f"{symbol} held, at cost.",
                               system_key=key, currency=parent.currency)
    try:
        account.save(using=using)
    except IntegrityError:
        # A racing call made it, or someone took the code by hand: the key decides which it was.
        found = accounts_of(organization_id, using).filter(system_key=key).first()
        if found is None:
            raise Conflict(ErrorCode.ACCOUNT_CODE_TAKEN,
                           f"Account code {account.account_code} is taken by an account that is not {symbol}'s.") from None
        return found
    return account


# --- signal receivers (connected in LedgerConfig.ready()) ----------------------------------------------

def default_chart_after_migrate(sender, app_config, using="default", plan=None, **kwargs) -> None:
    """post_migrate: every organization has the default chart of accounts after every migrate
    (idempotent; the charts of organizations made before the ledger knew them)."""
    if plan is not None and any(backwards for _, backwards in plan):
        return  # migrating backwards: the tables may be gone
    chart_of_accounts_ensure_all(using=using)


def default_chart_for_new_organization(sender, organization, using="default", **kwargs) -> None:
    """core.organizations.organization_created: a new organization starts with the default chart,
    written inside its creator's transaction (it commits or rolls back with the organization)."""
    chart_of_accounts_ensure_default(organization_id=organization.pk, currency=organization.reporting_fiat,
                                     using=using)
