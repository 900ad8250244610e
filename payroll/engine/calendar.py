"""The calendar of recurring payments: the n-th occurrence of a schedule, which occurrences are due.

Every occurrence is computed from the START date (occurrence n = start + n steps), never from the
previous occurrence, so a schedule does not drift: monthly from 31 January pays 31 Jan, 28 Feb (29 in
a leap year), 31 Mar, 30 Apr, ...; annually from 29 February pays 28 February in common years and 29
February again in leap years. A month step keeps the start's day, clamped to the month's last day.
`end_date` is inclusive: an occurrence on it is paid, none after it.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from enum import StrEnum

from payroll.engine.rounding import PayrollError


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    ANNUALLY = "ANNUALLY"


_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.ANNUALLY: 12}
_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7}


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months, its day of the month clamped to the target month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise PayrollError("date_out_of_range", "The schedule runs past the calendar's range.")
    return dt.date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def occurrence(start: dt.date, frequency: str, n: int) -> dt.date:
    """The n-th occurrence (0: the start date itself)."""
    if n < 0:
        raise PayrollError("invalid_occurrence", "Occurrences are numbered from 0.")
    try:
        frequency = Frequency(frequency)
    except ValueError:
        raise PayrollError("invalid_frequency", f"Unknown frequency {frequency!r}.") from None
    if frequency in _DAYS:
        try:
            return start + dt.timedelta(days=_DAYS[frequency] * n)
        except OverflowError:
            raise PayrollError("date_out_of_range", "The schedule runs past the calendar's range.") from None
    return add_months(start, _MONTHS[frequency] * n)


def next_occurrence(start: dt.date, frequency: str, made: int, end_date: dt.date | None = None) -> dt.date | None:
    """The date of the next payment after `made` payments (None when the schedule has ended)."""
    try:
        day = occurrence(start, frequency, made)
    except PayrollError as exc:
        if exc.code == "date_out_of_range":
            return None
        raise
    return None if end_date is not None and day > end_date else day


def occurrences_due(start: dt.date, frequency: str, made: int, today: dt.date, end_date: dt.date | None = None,
                    *, limit: int = 10_000) -> list[tuple[int, dt.date]]:
    """The occurrences not yet paid (index >= `made`) dated on or before `today` (and `end_date`):
    [(index, date), ...] in order, at most `limit` of them. After downtime this lists every missed
    occurrence once; the caller pays them (or skips them, by its setting) and counts them in `made`."""
    due = []
    n = made
    while len(due) < limit:
        day = next_occurrence(start, frequency, n, end_date)
        if day is None or day > today:
            break
        due.append((n, day))
        n += 1
    return due
