"""POST /api/transactions/classify/ and POST /api/ai/classify-transaction/, overrides of chain rows
through PUT /api/transactions/{id}/ (label and category), the review queue, and the pipeline."""

from decimal import Decimal

import pytest
from bson import ObjectId
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from ai_audit.models import ClassifierState, SuggestionState, TransactionClassification
from ledger.models import EntryStatus, JournalEntry
from ledger.transaction_journals import transaction_journals_sync
from tests.ai_audit.classification.conftest import CLIENT
from wallets.models import Transaction, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db

PATHS = ("/api/transactions/classify/", "/api/ai/classify-transaction/")


def classify(books, body, who="accountant", path=PATHS[0]):
    response = books.call(who, "post", path, body)
    return response


def label(books, row, label_, category="business", who="accountant"):
    response = books.call(who, "put", f"/api/transactions/{row.pk}/", {"label": label_, "category": category})
    assert response.status_code == 200, response.content
    return response.json()


def record_of(row):
    return TransactionClassification.objects.get(transaction=row)


@pytest.mark.parametrize("path", PATHS)
def test_one_transaction_without_history_says_so(books, path):
    row = books.chain_row()
    response = classify(books, {"transaction_id": str(row.pk)}, path=path)
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    assert result["label"] == "" and result["layer"] == "none" and result["confidence"] is None
    assert result["reason"].startswith("not enough history")
    assert result["state"] == "none" and result["applied"] is False


def test_an_override_on_a_chain_row_rebooks_the_entry_and_changes_the_next_suggestion(books):
    rows = [books.chain_row(direction="in", counterparty=CLIENT, amount=str(100 + i), usd_value=str(100 + i))
            for i in range(4)]
    first = rows[0]
    assert not transaction_journals_sync(organization=books.organization).error  # the rows as the monitor leaves them
    booked = JournalEntry.objects.get(source_transaction=first, status=EntryStatus.POSTED)  # a deposit (equity)
    body = label(books, first, "income")
    assert (body["label"], body["category"], body["transaction_type"], body["tax_category"]) == (
        "income", "business", "INCOME", "income")
    assert Decimal(body["ai_confidence"]) == 1 and body["ai_description"].startswith("labelled by")
    booked.refresh_from_db()
    assert booked.status == EntryStatus.REVERSED
    rebooked = JournalEntry.objects.get(source_transaction=first, status=EntryStatus.POSTED,
                                        source_key__endswith="#2")
    assert "income" in rebooked.description.lower() and rebooked.pk != booked.pk
    record = record_of(first)
    assert record.state == SuggestionState.OVERRIDDEN and record.labelled_by == books.accountant
    assert record.labelled_at is not None
    # teach two more; the fourth is now suggested as income, and says why
    label(books, rows[1], "income")
    label(books, rows[2], "income")
    [result] = classify(books, {"transaction_id": str(rows[3].pk)}).json()["results"]
    assert (result["label"], result["category"], result["layer"]) == ("income", "business", "model")
    assert result["reason"] == "same counterparty as 3 transactions you labelled income"
    assert result["applied"] is False
    rows[3].refresh_from_db()
    assert rows[3].ai_subcategory == "" and rows[3].transaction_type == "TRANSFER"  # suggestions only
    assert ClassifierState.objects.get(organization=books.organization).labels_count == 3
    # teaching the other way changes the suggestion
    for row in rows[:3]:
        label(books, row, "salary", "personal")
    [again] = classify(books, {"transaction_id": str(rows[3].pk)}).json()["results"]
    assert (again["label"], again["category"]) == ("salary", "personal")
    assert again["reason"] == "same counterparty as 3 transactions you labelled salary"


def test_the_onchain_facts_stay_refused_and_labels_outside_the_vocabulary_are_422(books):
    row = books.chain_row()
    assert books.call("manager", "put", f"/api/transactions/{row.pk}/", {"amount": "5"}).status_code == 409
    for body in ({"label": "bribe"}, {"category": "holiday"}, {"label": "payment", "tax_category": "cost"},
                 {"category": "business"}):
        response = books.call("accountant", "put", f"/api/transactions/{row.pk}/", body)
        assert response.status_code == 422, body
    # the type alone is a label field on chain rows now (it was refused with 409)
    ok = books.call("accountant", "put", f"/api/transactions/{row.pk}/", {"transaction_type": "EXPENSE",
                                                                            "tax_category": "payment"})
    assert ok.status_code == 200 and ok.json()["transaction_type"] == "EXPENSE"


def test_unknown_and_foreign_ids_are_404(books, make_organization, make_user):
    other = make_organization("Elsewhere")
    stranger = make_user(role=Role.MANAGER, organization=other)
    theirs = books.chain_row(wallet=wallet_create(user=stranger, name="x", wallet_type=WalletType.PRIVATE_KEY))
    mine = books.chain_row()
    for path in PATHS:
        assert classify(books, {"transaction_id": str(ObjectId())}, path=path).status_code == 404
        assert classify(books, {"transaction_id": str(theirs.pk)}, path=path).status_code == 404
        assert classify(books, {"transaction_ids": [str(mine.pk), str(theirs.pk)]}, path=path).status_code == 404
    assert books.call("accountant", "put", f"/api/transactions/{theirs.pk}/", {"label": "payment"}).status_code == 404
    assert not TransactionClassification.objects.filter(transaction=theirs).exists()


@pytest.mark.parametrize("body", [{}, {"transaction_id": None}, {"transaction_ids": []},
                                  {"transaction_id": "x"}, {"transaction_id": "0" * 24, "filter": {}},
                                  {"filter": {"colour": "red"}}, {"transaction_ids": ["0" * 24] * 501}])
def test_bad_requests_are_422(books, body):
    assert classify(books, body).status_code == 422


def test_apply_labels_what_the_rules_are_sure_of_and_a_filter_selects(books):
    own = books.chain_row(counterparty=books.spare.address, usd_value=None, asset=books.eth, amount="1")
    gas = books.chain_row(amount="0", usd_value=None, asset=books.eth, counterparty="0x" + "ee" * 20)
    response = classify(books, {"filter": {"asset": "ETH"}, "apply": True}, who="manager")
    assert response.status_code == 200, response.content
    results = {r["transaction_id"]: r for r in response.json()["results"]}
    assert results[str(own.pk)]["label"] == "own transfer" and results[str(own.pk)]["applied"]
    assert results[str(gas.pk)]["label"] == "fee" and results[str(gas.pk)]["reason"] == "gas only: no value moved"
    own.refresh_from_db()
    assert (own.ai_subcategory, own.transaction_type, own.tax_category, own.is_classified) == (
        "own transfer", "TRANSFER", "transfer", True)
    assert record_of(own).state == SuggestionState.ACCEPTED and record_of(own).labelled_by == books.manager


def test_a_plain_member_cannot_apply(books):
    mine = wallet_create(user=books.member, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    row = books.chain_row(wallet=mine)
    assert classify(books, {"transaction_id": str(row.pk)}, who="member").status_code == 200
    assert classify(books, {"transaction_id": str(row.pk), "apply": True}, who="member").status_code == 403
    # a colleague's transaction is not found for a plain member
    assert classify(books, {"transaction_id": str(books.chain_row().pk)}, who="member").status_code == 404


def test_the_pipeline_classifies_new_transactions_and_applies_only_what_is_sure(books):
    wallet = books.wallet
    response = books.call("manager", "post", "/api/transactions/", {
        "wallet_id": str(wallet.pk), "asset": "ETH", "transaction_type": "TRANSFER", "amount": "1",
        "transaction_date": "2026-03-01T12:00:00Z", "from_address": wallet.address, "to_address": books.spare.address})
    assert response.status_code == 201
    moved = Transaction.objects.get(pk=response.json()["id"])
    record = record_of(moved)
    assert record.state == SuggestionState.APPLIED and record.labelled_by is None
    moved.refresh_from_db()
    assert moved.ai_subcategory == "own transfer" and moved.ai_confidence == Decimal(1)
    unsure = books.chain_row()
    from wallets.signals import transactions_changed_announce
    transactions_changed_announce(unsure)
    assert record_of(unsure).state == SuggestionState.NONE
    unsure.refresh_from_db()
    assert unsure.is_classified is False


def test_the_review_queue_accepts_and_rejects(books, make_organization, make_user):
    rows = [books.chain_row(counterparty=CLIENT, direction="in", amount="2", asset=books.eth, usd_value="4000")
            for _ in range(5)]
    for row in rows[:3]:
        label(books, row, "income")
    # below the threshold: waits for review
    ClassifierState.objects.filter(organization=books.organization).update(review_threshold=Decimal("0.99"))
    classify(books, {"transaction_ids": [str(rows[3].pk), str(rows[4].pk)]})
    queue = books.call("accountant", "get", "/api/ai/classifications/review/").json()["items"]
    waiting = {item["transaction_id"]: item for item in queue}
    assert set(waiting) == {str(rows[3].pk), str(rows[4].pk)}
    assert waiting[str(rows[3].pk)]["suggested_label"] == "income"
    accepted = books.call("accountant", "post", f"/api/ai/classifications/{waiting[str(rows[3].pk)]['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert accepted.json()["labelled_by"] == books.accountant.username
    rows[3].refresh_from_db()
    assert (rows[3].ai_subcategory, rows[3].transaction_type) == ("income", "INCOME")
    rejected = books.call("accountant", "post", f"/api/ai/classifications/{waiting[str(rows[4].pk)]['id']}/reject/")
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert books.call("accountant", "get", "/api/ai/classifications/review/").json()["items"] == []
    # another organization's record, and an unknown one: 404; a plain member: 403
    other = make_organization("Elsewhere")
    stranger = make_user(role=Role.MANAGER, organization=other)
    theirs = books.chain_row(wallet=wallet_create(user=stranger, name="x", wallet_type=WalletType.PRIVATE_KEY))
    foreign = TransactionClassification.objects.create(organization=other, transaction=theirs,
                                                       state=SuggestionState.PENDING, suggested_label="payment",
                                                       suggested_category="business")
    for record_id in (foreign.pk, ObjectId()):
        assert books.call("accountant", "post", f"/api/ai/classifications/{record_id}/accept/").status_code == 404
    assert books.call("member", "get", "/api/ai/classifications/review/").status_code == 403


def test_the_review_queue_does_not_grow_queries_with_rows(books):
    def count():
        with CaptureQueriesContext(connection) as captured:
            response = books.call("accountant", "get", "/api/ai/classifications/review/?limit=50")
            assert response.status_code == 200
        return len(captured.captured_queries), len(response.json()["items"])

    classify(books, {"transaction_ids": [str(books.chain_row().pk) for _ in range(2)]})
    few, rows = count()
    assert rows == 2
    classify(books, {"transaction_ids": [str(books.chain_row().pk) for _ in range(12)]})
    assert count() == (few, 14)
