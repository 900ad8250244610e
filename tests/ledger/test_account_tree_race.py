"""Two re-parentings racing (A under B, B under A) cannot both pass the cycle check: each move bumps
one shared counter inside its transaction, so one of them conflicts, is retried, and then sees the
other's parent."""

import threading

import pytest
from django.db import connections

from accounts.models import Role
from ledger import services
from ledger.models import FinancialAccount
from ledger.selectors import account_parent_map
from core.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 5


def _cycle_exists(parents: dict[str, str]) -> bool:
    for start in parents:
        seen, code = set(), start
        while code:
            if code in seen:
                return True
            seen.add(code)
            code = parents.get(code, "")
    return False


def test_racing_moves_never_close_a_cycle(make_user, chart):
    manager = make_user(role=Role.MANAGER)
    for round_number in range(ROUNDS):
        a, b = (services.account_create(actor=manager, account_code=f"19{round_number}{n}", account_name=f"race {n}",
                                        account_type="asset", parent_account="1000") for n in (1, 2))
        outcomes, barrier = [], threading.Barrier(2)

        def move(child, parent):
            try:
                barrier.wait(timeout=30)
                services.account_update(actor=manager, account=FinancialAccount.objects.get(pk=child.pk),
                                        parent_account=parent.account_code)
                outcomes.append("moved")
            except DomainError as exc:
                outcomes.append(exc.code)
            finally:
                connections.close_all()  # this thread's own connection

        threads = [threading.Thread(target=move, args=(a, b)), threading.Thread(target=move, args=(b, a))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["moved", "parent_cycle"], outcomes
        assert not _cycle_exists(account_parent_map(organization_id=chart.pk))
