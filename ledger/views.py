"""Back-office pages of the ledger: the trial balance of the viewer's organization with an as-of day
picker (HTMX swaps the table), and the review of what the automatic journals could not book (data
problems, refreshed by HTMX while the page is open). Those who may view the books
(core.permissions.can_view_books)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import permissions
from ledger import selectors


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
