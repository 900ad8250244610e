"""Admin of classification: the suggestions (accept / reject / classify again in bulk, through the
services, so every label re-books its entry and teaches the classifier) and each organization's
classifier (its review threshold; retrain now)."""

from django.contrib import admin, messages

from ai_audit.classification import services
from ai_audit.models import ClassifierState, TransactionClassification
from core import permissions
from core.admin_base import OrganizationScopedAdmin
from core.errors import DomainError


@admin.register(TransactionClassification)
class TransactionClassificationAdmin(OrganizationScopedAdmin):
    list_display = ("transaction", "state", "suggested_label", "suggested_category", "suggested_confidence",
                    "suggested_layer", "label", "category", "labelled_by", "labelled_at")
    list_filter = ("state", "suggested_layer", "label")
    search_fields = ("suggested_label", "label", "suggested_reason")
    readonly_fields = [f.name for f in TransactionClassification._meta.fields]
    actions = ("accept_suggestions", "reject_suggestions", "classify_again")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _each(self, request, queryset, act, done: str):
        count = 0
        for record in queryset:
            try:
                act(record)
            except DomainError as exc:
                self.message_user(request, f"{record}: {exc.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} {done}.", messages.SUCCESS)

    @admin.action(description="Accept the selected suggestions")
    def accept_suggestions(self, request, queryset):
        self._each(request, queryset, lambda r: services.suggestion_accept(actor=request.user, record_id=r.pk),
                   "accepted")

    @admin.action(description="Reject the selected suggestions")
    def reject_suggestions(self, request, queryset):
        self._each(request, queryset, lambda r: services.suggestion_reject(actor=request.user, record_id=r.pk),
                   "rejected")

    @admin.action(description="Classify the selected transactions again (suggestions only)")
    def classify_again(self, request, queryset):
        ids = [str(i) for i in queryset.values_list("transaction_id", flat=True)]
        try:
            items = services.classify_request(actor=request.user, transaction_ids=ids)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{len(items)} classified.", messages.SUCCESS)


@admin.register(ClassifierState)
class ClassifierStateAdmin(OrganizationScopedAdmin):
    list_display = ("organization", "review_threshold", "labels_count", "trained_at", "stale")
    fields = ("review_threshold", "labels_count", "trained_at", "stale")
    readonly_fields = ("labels_count", "trained_at", "stale")
    actions = ("retrain",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_organization(request.user)

    def save_model(self, request, obj, form, change):
        try:
            services.review_threshold_set(actor=request.user, threshold=form.cleaned_data["review_threshold"],
                                          organization_id=obj.organization_id)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Retrain from every label now")
    def retrain(self, request, queryset):
        for state in queryset:
            services.learner_train(state.organization_id)
        self.message_user(request, f"{queryset.count()} retrained.", messages.SUCCESS)
