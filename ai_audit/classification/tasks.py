"""Huey tasks of classification: the pipeline (every new transaction classified, a tracked task), the
learner taught after each person's label, and the periodic refit of stale learners.

Receivers (connected in ai_audit's AppConfig.ready() through `signals_connect`):
- wallets.signals.transactions_changed -> the pipeline for that organization, after commit;
- wallets.signals.transaction_labelled -> who and when recorded, the learner taught."""

from huey.contrib.djhuey import db_task

from accounts.models import User
from ai_audit.classification import services
from ai_audit.models import TransactionClassification
from core.tasking import tracked_task
from core.scheduling import cron, periodic_job
from core.transactions import after_commit as run_after_commit
from wallets.signals import transaction_labelled, transactions_changed


@tracked_task("ai_audit.classification_pipeline")
def classification_pipeline_task(reporter, organization_id: str | None = None):
    """Classify the organization's transactions that were never classified."""
    if organization_id is None:
        return None
    totals = services.pipeline_run(organization_id, reporter=reporter)
    reporter.log(f"{totals['classified']} classified: {totals['applied']} applied, {totals['to_review']} to review")
    return totals


@db_task()
def classifier_learn_task(organization_id: str, record_ids: list[str]):
    """Teach the learner the labels just given (incrementally; from the start when stale)."""
    records = list(TransactionClassification.objects.for_organization(organization_id).filter(
        pk__in=record_ids).prefetch_related("transaction__cryptocurrency", "transaction__wallet"))
    state = services.learner_train(organization_id, records)
    return {"labels": state.labels_count}


@periodic_job("classifiers_retrain", cron(minute="*/30"),
              description="Refit the classifier of each organization whose labels changed.")
def classifiers_retrain_periodic():
    """Every 30 minutes: refit from the start the learners whose labels changed (relabelled rows)."""
    return {"retrained": services.classifiers_retrain_stale()}


def _organization_of(user_id, organization_id):
    if organization_id is not None:
        return organization_id
    user = User.objects.filter(pk=user_id).only("organization").first() if user_id else None
    return str(user.organization_id) if user is not None and user.organization_id else None


def pipeline_on_transactions_changed(sender, user_id=None, organization_id=None, after_commit=True, **kwargs):
    """New or changed transactions: classify those never classified, once they are committed."""
    organization_id = _organization_of(user_id, organization_id)
    if organization_id is None:
        return

    def run():
        if services.pipeline_has_pending(organization_id):
            classification_pipeline_task.enqueue(organization_id=organization_id)

    if after_commit:
        run_after_commit(run, robust=True)
    else:
        run()


def learn_on_transaction_labelled(sender, transaction, actor, label, category, how, **kwargs):
    record = services.label_record(transaction=transaction, actor=actor, label=label, category=category, how=how)
    if record is not None:
        organization_id, record_id = str(transaction.organization_id), str(record.pk)
        run_after_commit(lambda: classifier_learn_task(organization_id, [record_id]), robust=True)


def signals_connect() -> None:
    transactions_changed.connect(pipeline_on_transactions_changed, dispatch_uid="ai_classification_pipeline")
    transaction_labelled.connect(learn_on_transaction_labelled, dispatch_uid="ai_classification_labelled")
