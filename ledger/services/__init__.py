"""Writes for the double-entry ledger: `<entity>_<action>(*, ...)`, validated and transactional.
Errors are core.errors domain errors with a stable code; who may do what is in ledger/selectors.py's
docstring, and every service checks it itself with its `actor` (core.permissions). A person acts on
the books of their own organization (another organization's account or entry answers 404);
automatic work acts as the system user (core.permissions.is_system_actor) and names the organization
(`organization_id=`).

One module per part of the books, re-exported here (callers use `ledger.services.<name>`):
- `chart`: the chart of accounts (create, change, delete an account);
- `default_chart`: the default chart every organization starts with, the accounts found by role;
- `lock_date`: closing the books up to a day;
- `entries`: journal entries (drafts, posting, reversal, the automatic journals' batches);
- `numbering`: the counter documents behind entry numbers and account-tree moves;
- `attachments`: files and reference texts on journal entries (their reads are in ledger.selectors).
"""

from ledger.services.attachments import (
    journal_attachment_add_file,
    journal_attachment_add_reference,
    journal_attachment_delete,
)
from ledger.services.chart import account_create, account_delete, account_update, currency_clean
from ledger.services.default_chart import (
    DEFAULT_CHART,
    chart_account_get,
    chart_of_accounts_ensure_all,
    chart_of_accounts_ensure_default,
    crypto_asset_account_get_or_create,
)
from ledger.services.entries import (
    journal_entries_post_batch,
    journal_entry_create,
    journal_entry_delete,
    journal_entry_post,
    journal_entry_reverse,
    journal_entry_update,
    line_as_dict,
)
from ledger.services.lock_date import ledger_lock_date_set

__all__ = [
    "DEFAULT_CHART",
    "account_create",
    "account_delete",
    "account_update",
    "chart_account_get",
    "chart_of_accounts_ensure_all",
    "chart_of_accounts_ensure_default",
    "crypto_asset_account_get_or_create",
    "currency_clean",
    "journal_attachment_add_file",
    "journal_attachment_add_reference",
    "journal_attachment_delete",
    "journal_entries_post_batch",
    "journal_entry_create",
    "journal_entry_delete",
    "journal_entry_post",
    "journal_entry_reverse",
    "journal_entry_update",
    "ledger_lock_date_set",
    "line_as_dict",
]
