"""Writes of reporting: tax reports (`tax_reports`) and financial statements
(`financial_statements`), re-exported here (callers use `reporting.services.<name>`).

Both are the organization's: a tax report covers every transaction of the requester's organization,
a statement reads its books. Every service takes the `actor` and checks core.permissions itself
(core.permissions.require / require_own): reading needs can_view_books, generating and deleting
can_work_books (accountants, managers, admins); a plain member gets 403. An object of another
organization is answered like a missing one (404), which the scoped queries (core.tenancy) already
give the APIs and pages.
"""

from reporting.services.financial_statements import (
    StatementRequest,
    financial_statement_compute,
    financial_statement_create,
    financial_statement_delete,
    statement_request_clean,
)
from reporting.services.tax_reports import tax_report_delete, tax_report_request

__all__ = [
    "StatementRequest",
    "financial_statement_compute",
    "financial_statement_create",
    "financial_statement_delete",
    "statement_request_clean",
    "tax_report_delete",
    "tax_report_request",
]
