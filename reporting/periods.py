"""Report periods (pure): the inclusive dates of a daily, weekly, monthly, quarterly, annual or custom
report. Annual is the calendar year, or for the `uk` method the tax year 6 April - 5 April, named by
the year it starts in."""

from __future__ import annotations

import datetime as dt

PERIOD_TYPES = ("DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL", "CUSTOM")


class PeriodError(ValueError):
    """A period that cannot be built from what was given."""


def tax_year_period(year: int, method: str) -> tuple[dt.date, dt.date]:
    if not 1970 <= year <= 2100:
        raise PeriodError(f"year {year} is out of range (1970-2100)")
    if method == "uk":
        return dt.date(year, 4, 6), dt.date(year + 1, 4, 5)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def report_period(report_type: str, *, method: str, anchor: dt.date | None = None, year: int | None = None,
                  start: dt.date | None = None, end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """DAILY/WEEKLY (ISO week, Monday to Sunday)/MONTHLY/QUARTERLY around `anchor`; ANNUAL for `year`
    (or the year of `anchor`); CUSTOM from `start` to `end`."""
    if report_type not in PERIOD_TYPES:
        raise PeriodError(f"unknown report type {report_type!r}: use one of {', '.join(PERIOD_TYPES)}")
    if report_type == "CUSTOM":
        if start is None or end is None:
            raise PeriodError("a custom report needs a start and an end date")
        if end < start:
            raise PeriodError(f"the period ends ({end}) before it starts ({start})")
        if start.year < 1970 or end.year > 2100:
            raise PeriodError("a period lies between 1970 and 2100")
        return start, end
    if report_type == "ANNUAL":
        if year is None:
            if anchor is None:
                raise PeriodError("an annual report needs a year")
            year = anchor.year if method != "uk" or (anchor.month, anchor.day) >= (4, 6) else anchor.year - 1
        return tax_year_period(year, method)
    if anchor is None:
        raise PeriodError(f"a {report_type.lower()} report needs a date")
    if report_type == "DAILY":
        return anchor, anchor
    if report_type == "WEEKLY":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        return monday, monday + dt.timedelta(days=6)
    if report_type == "MONTHLY":
        first = anchor.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return first, following - dt.timedelta(days=1)
    quarter_start = anchor.replace(month=3 * ((anchor.month - 1) // 3) + 1, day=1)
    following = (quarter_start + dt.timedelta(days=93)).replace(day=1)
    return quarter_start, following - dt.timedelta(days=1)
