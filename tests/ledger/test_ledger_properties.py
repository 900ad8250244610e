"""Property: after any sequence of create / post / reverse / edit / delete (valid or not), the
books balance (total debits = total credits) and every account holds exactly what a plain model
of the booked lines says."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from ledger import services
from ledger.models import FinancialAccount, JournalCounter, JournalEntry
from ledger.selectors import account_balances, trial_balance
from core.errors import Conflict, DomainError, InvalidInput

pytestmark = pytest.mark.django_db

CODES = ("1110", "1120", "3100", "4100", "5100", "5300")
amounts = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1000000000"), places=8,
                      allow_nan=False, allow_infinity=False)


@st.composite
def balanced_lines(draw):
    debits = draw(st.lists(amounts, min_size=1, max_size=3))
    total = sum(debits)
    share = draw(st.integers(min_value=0, max_value=99))
    first = (total * share / 100).quantize(Decimal("1e-8"))
    credits = [first, total - first] if Decimal(0) < first < total else [total]
    lines = [{"account_code": draw(st.sampled_from(CODES)), "debit_amount": d} for d in debits]
    lines += [{"account_code": draw(st.sampled_from(CODES)), "credit_amount": c} for c in credits]
    if draw(st.integers(0, 7)) == 0:  # now and then an unbalanced one, which must be refused
        lines[0]["debit_amount"] += Decimal("0.00000001")
    return lines


operations = st.lists(st.one_of(
    st.tuples(st.just("create"), balanced_lines()),
    st.tuples(st.just("create_and_post"), balanced_lines()),
    st.tuples(st.just("create_and_post"), balanced_lines()),
    st.tuples(st.just("reverse"), st.integers(0, 5)),
    st.tuples(st.just("post"), st.integers(0, 5)),
    st.tuples(st.just("reverse"), st.integers(0, 5)),
    st.tuples(st.just("edit"), st.integers(0, 5), balanced_lines()),
    st.tuples(st.just("delete"), st.integers(0, 5)),
), min_size=3, max_size=8)


def _net(lines) -> dict:
    net = {}
    for line in lines:
        net[line.account_code] = net.get(line.account_code, Decimal(0)) + line.debit_amount - line.credit_amount
    return net


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_sequence_keeps_the_books_balanced(make_user, chart, ops):
    for model in (JournalEntry, JournalCounter):  # a fresh book per example (entries protect each other)
        connection.database[model._meta.db_table].delete_many({})
    manager = make_user(role=Role.MANAGER)
    entries: list[JournalEntry] = []
    for op in ops:
        try:
            if op[0] in ("create", "create_and_post"):
                entries.append(services.journal_entry_create(created_by=manager, date=dt.date(2026, 4, 1),
                                                             description="p", line_items=op[1]))
                if op[0] == "create_and_post":
                    services.journal_entry_post(entry=entries[-1], actor=manager)
            elif entries:
                entry = JournalEntry.objects.get(pk=entries[op[1] % len(entries)].pk) \
                    if JournalEntry.objects.filter(pk=entries[op[1] % len(entries)].pk).exists() else None
                if entry is None:
                    continue
                if op[0] == "post":
                    services.journal_entry_post(entry=entry, actor=manager)
                elif op[0] == "reverse":
                    entries.append(services.journal_entry_reverse(entry=entry, actor=manager))
                elif op[0] == "edit":
                    services.journal_entry_update(entry=entry, actor=manager, date=dt.date(2026, 4, 2),
                                                  description="e", line_items=op[2])
                else:
                    services.journal_entry_delete(entry=entry, actor=manager)
        except DomainError as exc:
            assert isinstance(exc, (Conflict, InvalidInput)), exc.message
            event(f"refused: {exc.code}")

    report = trial_balance(organization_id=chart.pk)
    event(f"booked entries: {min(JournalEntry.objects.filter(status__in=('posted', 'reversed')).count(), 3)}+")
    assert report["total_debit"] == report["total_credit"]
    assert report["total_debit_balance"] == report["total_credit_balance"] and report["is_balanced"]
    expected: dict = {}
    for entry in JournalEntry.objects.filter(status__in=("posted", "reversed")):
        assert entry.total_debit == entry.total_credit == sum(line.debit_amount for line in entry.line_items)
        for code, amount in _net(entry.line_items).items():
            expected[code] = expected.get(code, Decimal(0)) + amount
        if entry.status == "reversed":  # an entry and its reversal cancel out, account by account
            reversal = JournalEntry.objects.get(reversal_of=entry)
            both = [*_net(entry.line_items).items(), *_net(reversal.line_items).items()]
            cancelled = {}
            for code, amount in both:
                cancelled[code] = cancelled.get(code, Decimal(0)) + amount
            assert not any(cancelled.values()) and entry.reversal_entry_id == reversal.pk
    got = {row["account_code"]: row["debit_balance"] - row["credit_balance"] for row in report["rows"]}
    assert {c: v for c, v in got.items() if v} == {c: v for c, v in expected.items() if v}
    numbers = sorted(JournalEntry.objects.exclude(entry_id=None).values_list("entry_id", flat=True))
    assert numbers == [f"JE-2026-{n:06d}" for n in range(1, len(numbers) + 1)]
    rolled = account_balances(list(FinancialAccount.objects.filter(organization=chart, parent_account="")),
                              organization_id=chart.pk)
    assets_side = rolled["1000"]["rolled_up_balance"] + rolled["5000"]["rolled_up_balance"]
    other_side = sum(rolled[code]["rolled_up_balance"] for code in ("2000", "3000", "4000"))
    assert assets_side == other_side  # assets + expenses = liabilities + equity + revenue
