"""The recurring-payment calendar (payroll/engine/calendar.py): hand-picked cases and an exhaustive
walk over every start day of 2023-2028 for every frequency."""

import calendar
import datetime as dt

import pytest

from payroll.engine import Frequency, PayrollError, add_months, next_occurrence, occurrence, occurrences_due

d = dt.date


def test_monthly_from_the_31st_clamps_to_each_months_end_without_drifting():
    assert [occurrence(d(2026, 1, 31), "MONTHLY", n) for n in range(6)] == [
        d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 31), d(2026, 4, 30), d(2026, 5, 31), d(2026, 6, 30)]
    assert occurrence(d(2024, 1, 31), "MONTHLY", 1) == d(2024, 2, 29)  # leap year


def test_annually_from_29_february():
    assert [occurrence(d(2024, 2, 29), "ANNUALLY", n) for n in range(5)] == [
        d(2024, 2, 29), d(2025, 2, 28), d(2026, 2, 28), d(2027, 2, 28), d(2028, 2, 29)]


def test_quarterly_daily_weekly():
    assert [occurrence(d(2025, 11, 30), "QUARTERLY", n) for n in range(4)] == [
        d(2025, 11, 30), d(2026, 2, 28), d(2026, 5, 30), d(2026, 8, 30)]
    assert occurrence(d(2026, 12, 31), "DAILY", 1) == d(2027, 1, 1)
    assert occurrence(d(2024, 2, 26), "WEEKLY", 1) == d(2024, 3, 4)


def test_end_date_is_inclusive_and_ends_the_schedule():
    assert next_occurrence(d(2026, 1, 31), "MONTHLY", 2, end_date=d(2026, 3, 31)) == d(2026, 3, 31)
    assert next_occurrence(d(2026, 1, 31), "MONTHLY", 3, end_date=d(2026, 4, 29)) is None
    assert next_occurrence(d(9999, 12, 1), "MONTHLY", 1) is None  # past the calendar


def test_occurrences_due_lists_each_missed_occurrence_once():
    due = occurrences_due(d(2026, 1, 31), "MONTHLY", made=1, today=d(2026, 5, 15))
    assert due == [(1, d(2026, 2, 28)), (2, d(2026, 3, 31)), (3, d(2026, 4, 30))]
    # after paying them, nothing is due twice
    assert occurrences_due(d(2026, 1, 31), "MONTHLY", made=4, today=d(2026, 5, 15)) == []
    assert occurrences_due(d(2026, 1, 1), "DAILY", made=0, today=d(2026, 1, 10), end_date=d(2026, 1, 3)) == [
        (0, d(2026, 1, 1)), (1, d(2026, 1, 2)), (2, d(2026, 1, 3))]
    assert occurrences_due(d(2026, 3, 1), "WEEKLY", made=0, today=d(2026, 2, 28)) == []
    assert len(occurrences_due(d(2000, 1, 1), "DAILY", made=0, today=d(2026, 1, 1), limit=5)) == 5


def test_unknown_frequency_and_negative_index_are_refused():
    with pytest.raises(PayrollError) as exc:
        occurrence(d(2026, 1, 1), "HOURLY", 1)
    assert exc.value.code == "invalid_frequency"
    with pytest.raises(PayrollError):
        occurrence(d(2026, 1, 1), "DAILY", -1)


MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUALLY": 12}


def test_every_start_day_of_six_years_for_every_frequency():
    """Exhaustive: 2,192 start days x 5 frequencies x 40 occurrences."""
    start = d(2023, 1, 1)
    checked = 0
    while start <= d(2028, 12, 31):
        for frequency in Frequency:
            previous = None
            for n in range(40):
                day = occurrence(start, frequency, n)
                if frequency in MONTHS:
                    months = (day.year - start.year) * 12 + day.month - start.month
                    assert months == MONTHS[frequency] * n
                    assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])
                else:
                    assert (day - start).days == n * (1 if frequency == "DAILY" else 7)
                if previous is not None:
                    assert day > previous
                previous = day
                checked += 1
            # the due list agrees with the occurrences, and paying them leaves nothing due
            today = occurrence(start, frequency, 7)
            due = occurrences_due(start, frequency, 0, today)
            assert due == [(n, occurrence(start, frequency, n)) for n in range(8)]
            assert occurrences_due(start, frequency, 8, today) == []
        start += dt.timedelta(days=1)
    assert checked == 2192 * 5 * 40


def test_add_months_round_trips_on_days_every_month_has():
    for month in range(1, 13):
        for day in range(1, 29):
            start = d(2026, month, day)
            assert add_months(add_months(start, 13), -13) == start
