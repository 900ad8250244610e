"""Financial statements: validated requests, computed from the actor's organization's books
(reporting.selectors; the engine is reporting/statements.py) and stored as one document each.
Computing needs core.permissions.can_view_books, storing and deleting can_work_books (accountants,
managers, admins)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from reporting import selectors
from reporting.models import FinancialStatement, StatementKind
from reporting.selectors import STATEMENT_MAX_COMPARISONS
from reporting.statements import StatementError, previous_period, same_day_a_year_before, statement_as_json

logger = logging.getLogger(__name__)

STATEMENTS_REFUSED = "Financial statements are for accountants, managers and admins."
STATEMENT_FIRST_DAY, STATEMENT_LAST_DAY = dt.date(1970, 1, 2), dt.date(2100, 12, 31)


@dataclasses.dataclass(frozen=True)
class StatementRequest:
    kind: str
    as_of: dt.date | None
    start: dt.date | None
    end: dt.date | None
    compare_dates: tuple[dt.date, ...]
    compare_periods: tuple[tuple[dt.date, dt.date], ...]
    include_fair_value: bool

    def comparison_json(self) -> list[dict]:
        if self.kind == StatementKind.BALANCE_SHEET:
            return [{"as_of": day.isoformat()} for day in self.compare_dates]
        return [{"start": start.isoformat(), "end": end.isoformat()} for start, end in self.compare_periods]


def _statement_day(day: dt.date, field: str) -> dt.date:
    if not STATEMENT_FIRST_DAY <= day <= STATEMENT_LAST_DAY:
        raise InvalidInput(ErrorCode.INVALID_DATE,
                           f"{field} must lie between {STATEMENT_FIRST_DAY} and {STATEMENT_LAST_DAY}.",
                           {"field": field, "date": day.isoformat()})
    return day


def _statement_period(start: dt.date | None, end: dt.date | None, field: str) -> tuple[dt.date, dt.date]:
    if start is None or end is None:
        raise InvalidInput(ErrorCode.INVALID_PERIOD, f"{field} needs a start date and an end date.", {"field": field})
    _statement_day(start, f"{field}.start_date")
    _statement_day(end, f"{field}.end_date")
    if end < start:
        raise InvalidInput(ErrorCode.INVALID_PERIOD, f"{field} ends ({end}) before it starts ({start}).",
                           {"field": field, "start_date": start.isoformat(), "end_date": end.isoformat()})
    return start, end


def statement_request_clean(*, kind: str, as_of: dt.date | None = None, start: dt.date | None = None,
                            end: dt.date | None = None, compare=None, include_fair_value: bool = True
                            ) -> StatementRequest:
    """`compare` None: the previous period of the same length (a balance sheet: the same day a year
    before); []: no comparison; else up to STATEMENT_MAX_COMPARISONS dates (balance sheet) or
    (start, end) pairs."""
    if kind not in StatementKind.values:
        raise InvalidInput(ErrorCode.INVALID_KIND, f"A statement is one of {', '.join(StatementKind.values)}.")
    if compare is not None and len(compare) > STATEMENT_MAX_COMPARISONS:
        raise InvalidInput(ErrorCode.TOO_MANY_COMPARISONS, f"At most {STATEMENT_MAX_COMPARISONS} comparison columns.")
    if kind == StatementKind.BALANCE_SHEET:
        if as_of is None:
            raise InvalidInput(ErrorCode.INVALID_DATE, "A balance sheet needs its as_of day.", {"field": "as_of"})
        _statement_day(as_of, "as_of")
        dates = [same_day_a_year_before(as_of)] if compare is None else [
            _statement_day(day, f"compare[{i}]") for i, day in enumerate(compare)]
        return StatementRequest(kind, as_of, None, None, tuple(dates), (), include_fair_value)
    start, end = _statement_period(start, end, "the period")
    periods = [previous_period(start, end)] if compare is None else [
        _statement_period(first, last, f"compare[{i}]") for i, (first, last) in enumerate(compare)]
    for first, _ in periods:
        _statement_day(first, "the comparison period")
    return StatementRequest(kind, None, start, end, (), tuple(periods),
                            include_fair_value if kind == StatementKind.INCOME_STATEMENT else False)


def financial_statement_compute(*, actor, request: StatementRequest):
    """The statement (reporting.statements.Statement) of the actor's organization for a cleaned
    request, not stored (the statement pages show it before it is saved). The engine's
    StatementError (books it cannot draw from) becomes the domain's Conflict here, its one boundary."""
    permissions.require(permissions.can_view_books(actor), STATEMENTS_REFUSED)
    organization = actor.organization
    try:
        if request.kind == StatementKind.BALANCE_SHEET:
            return selectors.balance_sheet_for(organization, as_of=request.as_of,
                                               compare_dates=list(request.compare_dates))
        if request.kind == StatementKind.INCOME_STATEMENT:
            return selectors.income_statement_for(organization, start=request.start, end=request.end,
                                                  compare_periods=list(request.compare_periods),
                                                  include_fair_value=request.include_fair_value)
        return selectors.cash_flow_for(organization, start=request.start, end=request.end,
                                       compare_periods=list(request.compare_periods))
    except StatementError as exc:
        raise Conflict(exc.code, exc.message, exc.details) from None


def financial_statement_create(*, actor, kind: str, as_of: dt.date | None = None, start: dt.date | None = None,
                               end: dt.date | None = None, compare=None,
                               include_fair_value: bool = True) -> FinancialStatement:
    """Compute and store a statement of the actor's organization (one document)."""
    permissions.require(permissions.can_work_books(actor), STATEMENTS_REFUSED)
    request = statement_request_clean(kind=kind, as_of=as_of, start=start, end=end, compare=compare,
                                      include_fair_value=include_fair_value)
    statement = financial_statement_compute(actor=actor, request=request)
    data = statement_as_json(statement)
    stored = FinancialStatement.objects.create(
        organization_id=actor.organization_id, kind=kind, as_of=request.as_of, start_date=request.start,
        end_date=request.end, comparison=request.comparison_json(), currency=statement.currency,
        include_fair_value=request.include_fair_value, statement=data,
        totals={name: values[0] for name, values in data["totals"].items()}, unpriced=data["unpriced"][0],
        created_by=actor)
    logger.info("financial statement stored id=%s kind=%s organization=%s by=%s", stored.pk, kind,
                actor.organization_id, actor.pk)
    return stored


def financial_statement_delete(*, actor, statement: FinancialStatement) -> None:
    permissions.require(permissions.can_work_books(actor), STATEMENTS_REFUSED)
    permissions.require_own(actor, statement)
    statement.delete()
