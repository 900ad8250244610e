"""Back-office pages of the ledger: the trial balance of the viewer's organization with an as-of day
picker (HTMX swaps the table), the review of what the automatic journals could not book (data
problems, refreshed by HTMX while the page is open), and the journal entries (list, line editor,
post, reverse: see the section below). Those who may view the books
(core.permissions.can_view_books)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput, TooLarge
from core.http_status import http_status_of
from core.organizations import organization_day, organization_today, organization_zone
from core.windows import page_number
from ledger import selectors, services
from ledger.models import EntryStatus, JournalEntry
from ledger.services.attachments import ATTACHMENT_MAX_BYTES
from ledger.transaction_books import transaction_books_for
from wallets.selectors import transaction_get_for


def _as_of(request) -> tuple[dt.date | None, str]:
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return None, ""
    try:
        return dt.date.fromisoformat(raw), ""
    except ValueError:
        return None, f"{raw[:20]!r} is not a day (YYYY-MM-DD): showing every posted entry."


@login_required
@require_GET
def trial_balance_page(request):
    if not permissions.can_view_books(request.user):
        raise PermissionDenied("The trial balance is for accountants, managers and admins.")
    as_of, error = _as_of(request)
    report = selectors.trial_balance(organization_id=request.user.organization_id, as_of=as_of)
    context = {"report": report, "as_of": as_of, "error": error,
               "problems": selectors.booking_problem_count(organization_id=request.user.organization_id)}
    # The date picker asks with hx-get for the table alone.
    template = "ledger/_trial_balance_table.html" if request.htmx else "ledger/trial_balance.html"
    return render(request, template, context)


REVIEW_POLL_SECONDS = 30


@login_required
@require_GET
def booking_review_page(request):
    """The trades the automatic journals could not book, and why: each stays listed until its
    transaction is fixed and the next sync books it. The list refreshes itself (hx-get)."""
    if not permissions.can_view_books(request.user):
        raise PermissionDenied("The booking review is for accountants, managers and admins.")
    problems = list(selectors.booking_problem_list_for(request.user)[:selectors.BOOKING_PROBLEMS_SHOWN])
    context = {"problems": problems, "poll_seconds": REVIEW_POLL_SECONDS,
               "more": len(problems) == selectors.BOOKING_PROBLEMS_SHOWN}
    template = "ledger/_booking_problems.html" if request.htmx else "ledger/booking_review.html"
    return render(request, template, context)


# =====================================================================================================
# Journal entries (issue 11): the list with filters and paging, the line editor of drafts (accounts
# picked from the chart, debits = credits checked as you type by static/backoffice/journal-editor.js
# and again by the service), post, delete a draft, reverse a posted entry (posted entries never
# change: corrections are reversals). Dates are days on the ORGANIZATION's calendar
# (core.organizations): a typed day is the start of that day in its zone, shown dates are read in it.
#
# Who: viewing needs can_view_books, drafts can_work_books, post/reverse can_post_entries (the
# services check again). Another organization's entry id is a 404.
# =====================================================================================================

ENTRY_PAGE_ROWS = 50
EDITOR_BLANK_LINES = 2


def _require_view(user) -> None:
    if not permissions.can_view_books(user):
        raise PermissionDenied("Journal entries are for accountants, managers and admins.")


def _require_work(user) -> None:
    if not permissions.can_work_books(user):
        raise PermissionDenied("Only those who work the books write journal entries.")


def _require_post(user) -> None:
    if not permissions.can_post_entries(user):
        raise PermissionDenied("Only managers and admins post and reverse entries.")


def _books(request):
    return selectors.organization_books(request.user.organization_id)


def _render_in_zone(request, template, context, *, status=200, books=None):
    """Render with dates shown on the organization's calendar (its time zone)."""
    books = books or _books(request)
    with timezone.override(organization_zone(books)):
        response = render(request, template, {"books": books, **context}, status=status)
    return response


def _visible_entry(request, entry_id) -> JournalEntry:
    entry = selectors.journal_entry_list_for(request.user).filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    return entry


def _day(value: str, what: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(ErrorCode.INVALID_DATE, f"{what}: {value[:20]!r} is not a day (YYYY-MM-DD).") from None


@login_required
@require_GET
def journal_entry_list_page(request):
    """Entries newest first, filtered by status, days, account and transaction hash; 50 a page,
    one row more read to know whether there is a next page (the query count never grows)."""
    _require_view(request.user)
    data = request.GET
    books = _books(request)
    filters = {"status": data.get("status", "") if data.get("status", "") in EntryStatus.values else "",
               "account": data.get("account", "").strip()[:32], "hash": data.get("hash", "").strip()[:66]}
    error, entries, has_next = "", [], False
    page = page_number(data.get("page"))
    try:
        date_from, date_to = _day(data.get("date_from", ""), "From"), _day(data.get("date_to", ""), "To")
        queryset = selectors.journal_entry_list_for(
            request.user, status=filters["status"] or None, date_from=date_from, date_to=date_to,
            account_code=filters["account"] or None, transaction_hash=filters["hash"] or None)
        rows = list(queryset[(page - 1) * ENTRY_PAGE_ROWS:page * ENTRY_PAGE_ROWS + 1])
        entries, has_next = rows[:ENTRY_PAGE_ROWS], len(rows) > ENTRY_PAGE_ROWS
    except DomainError as exc:
        error = exc.message
    query = data.copy()
    query.pop("page", None)
    context = {"entries": entries, "page": page, "has_next": has_next, "filters": filters, "error": error,
               "query": query.urlencode(), "form": data, "statuses": EntryStatus.choices,
               "can_work": permissions.can_work_books(request.user)}
    template = "ledger/_journal_entry_table.html" if request.htmx and request.GET.get("fragment") else \
        "ledger/journal_entries.html"
    return _render_in_zone(request, template, context, books=books)


def _posted_lines(data) -> list[dict]:
    """The editor's line rows (parallel lists), fully blank rows skipped; amounts stay text for the
    service's rules (ledger.double_entry) to judge."""
    columns = [data.getlist(name) for name in ("line_account", "line_description", "line_debit", "line_credit",
                                               "line_asset", "line_quantity")]
    count = max((len(column) for column in columns), default=0)
    lines = []
    for index in range(min(count, 500)):
        account, description, debit, credit, asset, quantity = (
            (column[index] if index < len(column) else "").strip() for column in columns)
        if not (account or description or debit or credit):
            continue
        lines.append({"account_code": account, "description": description[:500], "debit_amount": debit,
                      "credit_amount": credit, "asset": asset, "quantity": quantity or None})
    return lines


def _editor_context(request, *, entry=None, form=None, lines=None, error="", books=None) -> dict:
    books = books or _books(request)
    accounts = list(selectors.account_list_for(request.user, is_active=True).filter(
        currency=(entry.currency if entry else books.reporting_fiat)).only("account_code", "account_name"))
    if lines is None:
        lines = [services.line_as_dict(line) for line in entry.line_items] if entry else []
    lines = list(lines) + [{} for _ in range(max(0, EDITOR_BLANK_LINES - len(lines)))]
    if form is None:
        form = {"date": organization_day(books, entry.date).isoformat() if entry else
                organization_today(books).isoformat(),
                "description": entry.description if entry else "", "reference": entry.reference if entry else "",
                "transaction_hash": entry.transaction_hash if entry else ""}
    return {"entry": entry, "form": form, "lines": lines, "accounts": accounts, "error": error, "books": books,
            "currency": entry.currency if entry else books.reporting_fiat,
            **(_attachments_context(request, entry) if entry else {}),
            "can_post": permissions.can_post_entries(request.user)}


def _save_entry(request, entry=None) -> tuple[JournalEntry | None, str, int]:
    """(the saved entry or None, error message, status). With action=post the draft is saved, then
    posted: a refused post leaves the saved draft (returned with the error)."""
    data = request.POST
    lines = _posted_lines(data)
    saved = None
    try:
        day = _day(data.get("date", ""), "Date")
        if day is None:
            raise InvalidInput(ErrorCode.INVALID_DATE, "An entry needs a date.")
        header = {"date": day, "description": data.get("description", ""), "reference": data.get("reference", ""),
                  "transaction_hash": data.get("transaction_hash", "")}
        if entry is None:
            saved = services.journal_entry_create(created_by=request.user, line_items=lines, **header)
        else:
            saved = services.journal_entry_update(entry=entry, actor=request.user, line_items=lines,
                                                  currency=entry.currency, **header)
        if data.get("action") == "post":
            saved = services.journal_entry_post(entry=saved, actor=request.user)
    except DomainError as exc:
        return saved, exc.message, http_status_of(exc)
    except ValidationError as exc:
        return saved, "; ".join(exc.messages), 422
    return saved, "", 200


def _editor_answer(request, *, entry, saved, error, status):
    if saved is not None and error:
        # Saved as a draft, the post refused (lock date, a rule): the draft's page says why.
        return _render_in_zone(request, "ledger/journal_entry_detail.html", _detail_context(request, saved, error),
                               status=200 if request.htmx else status)
    if saved is not None:
        url = reverse("ledger-entry-detail", args=[saved.pk])
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    data = request.POST
    form = {name: data.get(name, "") for name in ("date", "description", "reference", "transaction_hash")}
    context = _editor_context(request, entry=entry, form=form, lines=_posted_lines(data), error=error)
    return _render_in_zone(request, "ledger/journal_entry_form.html", context, status=200 if request.htmx else status,
                           books=context["books"])


@login_required
@require_http_methods(["GET", "POST"])
def journal_entry_new_page(request):
    _require_work(request.user)
    if request.method == "POST":
        if request.POST.get("action") == "post":
            _require_post(request.user)
        saved, error, status = _save_entry(request)
        return _editor_answer(request, entry=None, saved=saved, error=error, status=status)
    context = _editor_context(request)
    return _render_in_zone(request, "ledger/journal_entry_form.html", context, books=context["books"])


@login_required
@require_http_methods(["GET", "POST"])
def journal_entry_edit_page(request, entry_id):
    _require_work(request.user)
    entry = _visible_entry(request, entry_id)
    if entry.status != EntryStatus.DRAFT:
        return redirect("ledger-entry-detail", entry_id=entry.pk)
    if request.method == "POST":
        if request.POST.get("action") == "post":
            _require_post(request.user)
        saved, error, status = _save_entry(request, entry)
        return _editor_answer(request, entry=entry, saved=saved, error=error, status=status)
    context = _editor_context(request, entry=entry)
    return _render_in_zone(request, "ledger/journal_entry_form.html", context, books=context["books"])


@login_required
@require_GET
def journal_entry_detail_page(request, entry_id):
    _require_view(request.user)
    entry = _visible_entry(request, entry_id)
    return _render_in_zone(request, "ledger/journal_entry_detail.html", _detail_context(request, entry))


def _detail_context(request, entry, error=""):
    related = {e.pk: e for e in JournalEntry.objects.for_actor(request.user).filter(
        pk__in=[pk for pk in (entry.reversal_of_id, entry.reversal_entry_id) if pk])}
    return {"entry": entry, "error": error, "reversal_of": related.get(entry.reversal_of_id),
            **_attachments_context(request, entry),
            "reversal_entry": related.get(entry.reversal_entry_id),
            "can_work": permissions.can_work_books(request.user),
            "can_post": permissions.can_post_entries(request.user)}


def _entry_action(request, entry_id, act, *, require):
    require(request.user)
    entry = _visible_entry(request, entry_id)
    try:
        result = act(entry)
    except DomainError as exc:
        entry.refresh_from_db()
        status = 200 if request.htmx else http_status_of(exc)
        return _render_in_zone(request, "ledger/journal_entry_detail.html", _detail_context(request, entry, exc.message),
                               status=status)
    url = reverse("ledger-entry-detail", args=[result.pk]) if result is not None else reverse("ledger-entries")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def journal_entry_post_action(request, entry_id):
    return _entry_action(request, entry_id, lambda entry: services.journal_entry_post(entry=entry, actor=request.user),
                         require=_require_post)


@login_required
@require_POST
def journal_entry_reverse_action(request, entry_id):
    """The reversal is dated the day typed (default: today, never before the entry)."""
    def reverse_entry(entry):
        day = _day(request.POST.get("date", ""), "Reversal date")
        services.journal_entry_reverse(entry=entry, actor=request.user, date=day,
                                       description=request.POST.get("description", ""))
        return entry  # back to the reversed entry, which links its reversal
    return _entry_action(request, entry_id, reverse_entry, require=_require_post)


@login_required
@require_POST
def journal_entry_delete_action(request, entry_id):
    def delete(entry):
        services.journal_entry_delete(entry=entry, actor=request.user)
        return None
    return _entry_action(request, entry_id, delete, require=_require_work)


# =====================================================================================================
# The transactions page's drawer asks for a transaction's books here (wallets never imports the
# ledger): the journal entry that books it, with its lines and a link, and its cost basis and gain
# (a disposal) or its open lot (an acquisition), from ledger.transaction_books.
# =====================================================================================================

@login_required
@require_GET
def transaction_books_panel(request, transaction_id):
    _require_view(request.user)
    transaction = transaction_get_for(request.user, transaction_id)
    if transaction is None:
        raise Http404
    try:
        books, error = transaction_books_for(request.user, transaction), ""
    except DomainError as exc:
        books, error = None, exc.message
    return _render_in_zone(request, "ledger/_transaction_books.html", {"tx": transaction, "tb": books, "error": error})


# =====================================================================================================
# Attachments of an entry (files or reference texts): listed on the entry's page and in the editor,
# added and removed while it is a draft (ledger.services.attachments checks who, what and when),
# downloaded by those who may view the books. Another organization's entry or attachment is a 404.
# =====================================================================================================

def _attachments_context(request, entry, *, attachment_error: str = "", attachment_notice: str = "") -> dict:
    return {"attachments": list(selectors.journal_attachment_list_for(request.user, entry).select_related("uploaded_by")),
            "attachment_error": attachment_error, "attachment_notice": attachment_notice,
            "can_attach": entry.status == EntryStatus.DRAFT and permissions.can_work_books(request.user),
            "attachment_max_mb": ATTACHMENT_MAX_BYTES // (1024 * 1024)}


def _attachments_answer(request, entry, *, error: str = "", notice: str = "", status: int = 200):
    context = {"entry": entry, **_attachments_context(request, entry, attachment_error=error,
                                                      attachment_notice=notice)}
    if request.htmx:  # htmx swaps only 2xx answers: the panel shows the error
        return _render_in_zone(request, "ledger/_journal_attachments.html", context)
    if error:  # a plain post: the entry's page with the error at its attachments
        detail = {**_detail_context(request, entry), **context}
        return _render_in_zone(request, "ledger/journal_entry_detail.html", detail, status=status)
    return redirect("ledger-entry-detail", entry_id=entry.pk)


@login_required
@require_POST
def journal_attachment_add_action(request, entry_id):
    """A file (`file`) or a reference text (`reference`) onto a draft."""
    _require_work(request.user)
    entry = _visible_entry(request, entry_id)
    upload = request.FILES.get("file")
    try:
        if upload is not None:
            if upload.size > ATTACHMENT_MAX_BYTES:  # refused before reading it into memory
                raise TooLarge(ErrorCode.PAYLOAD_TOO_LARGE,
                               f"The file is larger than {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB.")
            attachment = services.journal_attachment_add_file(actor=request.user, entry=entry, name=upload.name,
                                                              data=upload.read())
            notice = f"Attached {attachment.original_name}."
        else:
            services.journal_attachment_add_reference(actor=request.user, entry=entry,
                                                      reference=request.POST.get("reference", ""))
            notice = "Reference added."
    except DomainError as exc:
        entry.refresh_from_db()
        return _attachments_answer(request, entry, error=exc.message, status=http_status_of(exc))
    return _attachments_answer(request, entry, notice=notice)


@login_required
@require_POST
def journal_attachment_delete_action(request, attachment_id):
    _require_work(request.user)
    attachment = _visible_attachment(request, attachment_id)
    entry = _visible_entry(request, attachment.entry_id)
    try:
        services.journal_attachment_delete(actor=request.user, attachment=attachment)
    except DomainError as exc:
        entry.refresh_from_db()
        return _attachments_answer(request, entry, error=exc.message, status=http_status_of(exc))
    return _attachments_answer(request, entry, notice="Attachment removed.")


def _visible_attachment(request, attachment_id):
    try:
        return selectors.journal_attachment_get_for(request.user, attachment_id)
    except DomainError:
        raise Http404 from None


@login_required
@require_GET
def journal_attachment_download(request, attachment_id):
    """The file as it was attached (always a download, with the sniffed type), for those who may view
    the books of its organization."""
    _require_view(request.user)
    attachment = _visible_attachment(request, attachment_id)
    if not attachment.file:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
