"""Admin of the ledger: the chart of accounts as a tree with balances, journal entries with their
lines (read-only once posted; post and reverse actions call the services), and the lock date as a
form on the organization (`LockDate`, a proxy of core.Organization: admins only).

Every admin is scoped by organization (core.admin_base.OrganizationScopedAdmin: staff see their own
organization's books, a platform superuser sees every organization's) and asks core.permissions:
view = can_view_books, change the chart and drafts = can_work_books, post/reverse =
can_post_entries, lock date = can_set_lock_date. Every write goes through ledger.services, which
check the same rules again (a superuser's change to another organization's books is refused there).

Dates and times are shown (and a draft's typed date read) on the viewer's ORGANIZATION's calendar
(core.organizations.organization_zone), never the server's TIME_ZONE: every view renders inside
that zone. "Add journal entry" opens the back-office line editor (/app/ledger/entries/new/), which
is the one editor of entry lines. Booking problems (what the automatic journals could not book) are
listed read-only."""

from collections import defaultdict

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import TabularInline

from core import money, permissions
from core.admin_base import ExactValueFilter, OrganizationScopedAdmin, fiat_column
from core.organizations import organization_zone
from ledger import selectors, services
from ledger.models import BookingProblem, EntryStatus, FinancialAccount, JournalAttachment, JournalEntry, LockDate
from core.errors import DomainError


def _viewer_zone(request):
    """The time zone of the viewer's organization (UTC for someone without one)."""
    organization_id = getattr(request.user, "organization_id", None)
    books = selectors.organization_books(organization_id) if organization_id is not None else None
    return organization_zone(books)


def _rendered_in_zone(request, view):
    """Run an admin view and render its response inside the organization's time zone (a
    TemplateResponse renders lazily, after the view returns: render it here)."""
    with timezone.override(_viewer_zone(request)):
        response = view()
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
    return response


class LedgerBooksAdmin(OrganizationScopedAdmin):
    """Visible to those who may view the books; a service refusing a change shows as an error message."""

    def has_module_permission(self, request):
        return permissions.can_view_books(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_books(request.user)

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return _rendered_in_zone(request, lambda: super(LedgerBooksAdmin, self)._changeform_view(
                request, object_id, form_url, extra_context))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        return _rendered_in_zone(request, lambda: super(LedgerBooksAdmin, self).changelist_view(request, extra_context))

    def history_view(self, request, object_id, extra_context=None):
        return _rendered_in_zone(request, lambda: super(LedgerBooksAdmin, self).history_view(
            request, object_id, extra_context))

    def _delete_view(self, request, object_id, extra_context):
        try:
            return super()._delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))


@admin.register(FinancialAccount)
class FinancialAccountAdmin(LedgerBooksAdmin):
    list_display = ("tree_name", "account_code", "account_type", "currency", "is_active", "own_balance",
                    "rolled_up_balance")
    list_display_links = ("tree_name", "account_code")
    list_filter = ("account_type", "is_active")
    search_fields = ("account_code", "account_name")
    ordering = ("account_code",)
    list_per_page = 500  # the whole chart on one page, so the tree reads top to bottom
    fields = ("account_code", "account_name", "account_type", "parent_account", "currency", "description",
              "is_active", "system_key", "created_at", "updated_at")
    readonly_fields = ("system_key", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # Entry lines refer to the code: it is fixed once the account exists.
        return (*self.readonly_fields, "account_code") if obj is not None else self.readonly_fields

    def has_add_permission(self, request):
        return permissions.can_work_books(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_work_books(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_work_books(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletions one by one, through the service's rules
        return actions

    def get_changelist(self, request, **kwargs):
        base = super().get_changelist(request, **kwargs)

        class AccountTreeChangeList(base):
            def get_results(self, request):
                super().get_results(request)
                accounts = list(self.result_list)
                by_organization = defaultdict(list)  # a superuser's page may span organizations
                for account in accounts:
                    by_organization[account.organization_id].append(account)
                for organization_id, group in by_organization.items():
                    balances = selectors.account_balances(group, organization_id=organization_id)
                    for account in group:
                        account.tree = balances[account.account_code]
                accounts.sort(key=lambda account: (str(account.organization_id), account.tree["path"]))
                self.result_list = accounts

        return AccountTreeChangeList

    @admin.display(description="Account", ordering="account_code")
    def tree_name(self, obj):
        level = getattr(obj, "tree", {}).get("level", 0)
        return format_html('<span style="padding-left:{}rem">{}{}</span>', level * 1.5,
                           "└ " if level else "", obj.account_name)

    @admin.display(description="Balance")
    def own_balance(self, obj):
        return money.format_fiat(getattr(obj, "tree", {}).get("balance"), obj.currency)

    @admin.display(description="Rolled-up balance")
    def rolled_up_balance(self, obj):
        return money.format_fiat(getattr(obj, "tree", {}).get("rolled_up_balance"), obj.currency)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in (
            "account_name", "account_type", "parent_account", "description", "is_active", "currency")}
        if change:
            current = self.get_queryset(request).get(pk=obj.pk)
            services.account_update(actor=request.user, account=current, **data)
        else:
            created = services.account_create(actor=request.user, account_code=form.cleaned_data["account_code"],
                                              **data)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.account_delete(actor=request.user, account=obj)


class JournalAttachmentInline(TabularInline):
    """An entry's attachments, read only here: they are added and removed on the entry's page
    (ledger.services.attachments checks the type, the size and that the entry is a draft)."""

    model = JournalAttachment
    extra = 0
    can_delete = False
    fields = ("attachment", "kind", "content_type", "size", "uploaded_by", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return JournalAttachment.objects.for_admin(request.user).select_related("uploaded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_books(request.user)

    @admin.display(description="Attachment")
    def attachment(self, obj):
        if obj.kind == "file":
            return format_html('<a href="{}">{}</a>', reverse("ledger-attachment-download", args=[obj.pk]),
                               obj.original_name)
        return obj.reference


@admin.register(JournalEntry)
class JournalEntryAdmin(LedgerBooksAdmin):
    inlines = (JournalAttachmentInline,)

    def get_inlines(self, request, obj):
        # Shown, never saved: a save of the entry reads no attachment formset (nothing in it is editable).
        return self.inlines if request.method in ("GET", "HEAD") else ()
    list_display = ("number", "entry_day", "description", "status", fiat_column("total_debit", currency_field="currency"),
                    "created_by", "posted_by", "page_link")
    list_select_related = ("created_by", "posted_by")
    list_filter = ("status", ("currency", ExactValueFilter))
    search_fields = ("entry_id", "description", "reference", "transaction_hash")
    ordering = ("-date", "-created_at")
    actions = ("post_entries", "reverse_entries")
    fields = ("entry_id", "status", "date", "description", "reference", "lines", "total_debit", "total_credit",
              "currency", "transaction_hash", "source_transaction", "source_key", "created_by", "created_at",
              "posted_by", "posted_at", "reversed_by", "reversed_at", "reversal_of", "reversal_entry")
    readonly_fields = ("entry_id", "status", "lines", "total_debit", "total_credit", "currency", "transaction_hash",
                       "source_transaction", "source_key", "created_by", "created_at", "posted_by", "posted_at",
                       "reversed_by", "reversed_at", "reversal_of", "reversal_entry")

    def has_add_permission(self, request):
        # Those who work the books add entries; the lines are written in the back-office editor.
        return permissions.can_work_books(request.user)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)  # the admin's own refusal
        return HttpResponseRedirect(reverse("ledger-entry-new"))

    @admin.display(description="Date", ordering="date")
    def entry_day(self, obj):
        """The entry's day on the organization's calendar (the view renders in its zone)."""
        return timezone.localtime(obj.date).date().isoformat() if obj.date else ""

    @admin.display(description="Open")
    def page_link(self, obj):
        return format_html('<a href="{}">page</a>', reverse("ledger-entry-detail", args=[obj.pk]))

    def has_change_permission(self, request, obj=None):
        # A posted entry is read-only: its change page renders as a view page.
        return permissions.can_work_books(request.user) and (obj is None or obj.status == EntryStatus.DRAFT)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_work_books(request.user) and obj is not None and obj.status == EntryStatus.DRAFT

    def has_post_permission(self, request):
        return permissions.can_post_entries(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="Entry", ordering="entry_id")
    def number(self, obj):
        return obj.entry_id or "(draft)"

    @admin.display(description="Lines")
    def lines(self, obj):
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td style='text-align:right'>{}</td>"
                                    "<td style='text-align:right'>{}</td></tr>",
                                ((line.account_code, line.description, line.debit_amount or "",
                                  line.credit_amount or "") for line in obj.line_items))
        return format_html("<table class='ledger-lines'><thead><tr><th>Account</th><th>Description</th>"
                           "<th>Debit</th><th>Credit</th></tr></thead><tbody>{}</tbody></table>", rows)

    def save_model(self, request, obj, form, change):
        current = self.get_queryset(request).get(pk=obj.pk)
        services.journal_entry_update(
            entry=current, actor=request.user, date=form.cleaned_data["date"],
            description=form.cleaned_data["description"], reference=form.cleaned_data["reference"],
            line_items=[services.line_as_dict(line) for line in current.line_items],
            transaction_hash=current.transaction_hash, currency=current.currency)

    def delete_model(self, request, obj):
        services.journal_entry_delete(entry=obj, actor=request.user)

    def _each(self, request, queryset, act, done: str):
        count = 0
        for entry in queryset:
            try:
                act(entry)
            except DomainError as exc:
                self.message_user(request, f"{entry}: {exc.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} entr{'y' if count == 1 else 'ies'} {done}.", messages.SUCCESS)

    @admin.action(description="Post selected drafts", permissions=["post"])
    def post_entries(self, request, queryset):
        self._each(request, queryset, lambda entry: services.journal_entry_post(entry=entry, actor=request.user),
                   "posted")

    @admin.action(description="Reverse selected posted entries", permissions=["post"])
    def reverse_entries(self, request, queryset):
        self._each(request, queryset, lambda entry: services.journal_entry_reverse(entry=entry, actor=request.user),
                   "reversed")


@admin.register(LockDate)
class LockDateAdmin(LedgerBooksAdmin):
    """The lock date: a form on the organization (its name and lock date only). Staff see their own
    organization (a superuser every one); only admins change it (core.permissions.can_set_lock_date),
    through ledger.services.ledger_lock_date_set (audited)."""

    list_display = ("name", "lock_date", "updated_at")
    fields = ("name", "lock_date", "updated_at")
    readonly_fields = ("name", "updated_at")

    def get_queryset(self, request):
        # Organization is not OrganizationOwned: the same rule as for_admin, on its own id.
        queryset = LockDate.objects.all()
        if permissions.can_see_all_organizations(request.user):
            return queryset
        if not permissions.can_use_backoffice(request.user):
            return queryset.none()
        return queryset.filter(pk=request.user.organization_id)

    def get_list_display(self, request):
        return self.list_display  # the organization is the row itself

    def get_exclude(self, request, obj=None):
        return ()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return permissions.can_set_lock_date(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Staff have one organization: go straight to its form.
        if not permissions.can_see_all_organizations(request.user) and request.user.organization_id is not None:
            return HttpResponseRedirect(reverse("admin:ledger_lockdate_change", args=[request.user.organization_id]))
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        services.ledger_lock_date_set(actor=request.user, lock_date=form.cleaned_data["lock_date"],
                                      organization_id=obj.pk, ip=request.META.get("REMOTE_ADDR"))


@admin.register(BookingProblem)
class BookingProblemAdmin(LedgerBooksAdmin):
    """What the automatic journals could not book, and why (read-only: a problem goes away when its
    transaction is fixed and the next sync books it). Also on /app/ledger/review/."""

    list_display = ("trade_key", "reason_short", "first_seen", "last_seen", "review_link")
    search_fields = ("trade_key", "reason")
    ordering = ("-last_seen",)
    fields = ("trade_key", "transaction", "reason", "first_seen", "last_seen")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Why it is not booked")
    def reason_short(self, obj):
        return obj.reason[:160]

    @admin.display(description="Review")
    def review_link(self, obj):
        return format_html('<a href="{}">review page</a>', reverse("ledger-review"))
