"""Models of classification: what the classifier suggested for each transaction and what became of
it (who labelled it and when), and each organization's classifier (its stored learner, its review
threshold).

The label and category in force are also written on the transaction itself (`ai_subcategory` = the
label, `ai_category` = business / personal / trading, `ai_confidence`, `ai_description` = the reason,
`is_classified`), and in the ledger's own vocabulary (`transaction_type` / `tax_category`) through
`wallets.services.transaction_update`, which re-books its journal entry."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.tenancy import OrganizationOwned

__all__ = ["ClassifierState", "SuggestionLayer", "SuggestionState", "TransactionClassification"]


class SuggestionState(models.TextChoices):
    NONE = "none", "No suggestion (not enough history)"
    PENDING = "pending", "Waiting for review"
    APPLIED = "applied", "Applied automatically"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    OVERRIDDEN = "overridden", "Labelled by hand"


# A label a person gave or confirmed: what the learner trains on.
TAUGHT_STATES = (SuggestionState.ACCEPTED, SuggestionState.OVERRIDDEN)
# Still to be looked at by a person (the review queue).
REVIEW_STATES = (SuggestionState.PENDING, SuggestionState.NONE)


class SuggestionLayer(models.TextChoices):
    RULE = "rule", "Certain rule"
    MODEL = "model", "Learnt from your labels"
    LLM = "llm", "Language model"
    NONE = "none", "None"


class TransactionClassification(OrganizationOwned):
    transaction = models.ForeignKey("wallets.Transaction", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=SuggestionState.choices, default=SuggestionState.NONE)
    suggested_label = models.CharField(max_length=64, blank=True, default="")
    suggested_category = models.CharField(max_length=32, blank=True, default="")
    suggested_confidence = models.DecimalField(null=True, blank=True, max_digits=5, decimal_places=4)
    suggested_reason = models.CharField(max_length=500, blank=True, default="")
    suggested_layer = models.CharField(max_length=8, choices=SuggestionLayer.choices, default=SuggestionLayer.NONE)
    suggested_at = models.DateTimeField(null=True, blank=True)
    # The label in force and who gave it (empty labelled_by: applied automatically).
    label = models.CharField(max_length=64, blank=True, default="")
    category = models.CharField(max_length=32, blank=True, default="")
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    labelled_at = models.DateTimeField(null=True, blank=True)
    # The call's method selector, read from the node once ("" none or unknown; None not read yet).
    method_selector = models.CharField(max_length=10, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ai_transaction_classifications"
        indexes = [
            models.Index(fields=["organization", "state", "-created_at"], name="ai_cls_org_state_idx"),
            models.Index(fields=["organization", "transaction"], name="ai_cls_org_tx_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["organization", "transaction"], name="ai_cls_org_tx_unique")]

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.label or self.suggested_label or '-'} ({self.state})"


class ClassifierState(OrganizationOwned):
    """One per organization: its learner (scikit-learn, pickled and compressed by the engine) and its
    settings."""

    review_threshold = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.8000"),
                                           help_text="suggestions below this confidence wait in the review queue")
    learner = models.BinaryField(null=True, blank=True, editable=False)
    labels_count = models.IntegerField(default=0)
    trained_at = models.DateTimeField(null=True, blank=True)
    # Set when a label changed after the last training (the periodic task refits these).
    stale = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ai_classifier_states"
        constraints = [models.UniqueConstraint(fields=["organization"], name="ai_classifier_org_unique")]

    def __str__(self) -> str:
        return f"classifier of {self.organization_id} ({self.labels_count} labels)"
