"""Back-office pages of payroll: the periods with their totals and status, a period's payslip grid
(managers edit drafts' bonus and overtime, approve, and process the period's bank and cash payslips
with a reference), and each member's "My payslips" with their PDFs.

Who: periods and grids for those who view payroll (core.permissions.can_view_payroll), actions for
managers and admins (the services check again); My payslips for every member. Another
organization's period or payslip is 404. A refusal of a service is shown as a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core import permissions
from core.errors import DomainError
from payroll import selectors, services
from payroll.api import current_session
from wallets.models import Wallet, WalletType


def _require_payroll(request) -> None:
    if not permissions.can_view_payroll(request.user):
        raise PermissionDenied("Payroll is for accountants, managers and admins.")


def _require_manager(request) -> None:
    if not permissions.can_manage_payroll(request.user):
        raise PermissionDenied("Only managers and admins run payroll.")


def _period(request, period_id):
    period = selectors.period_list_for(request.user).filter(pk=period_id).first()
    if period is None:
        raise Http404("No such period.")
    return period


def _payslip(request, payslip_id):
    payslip = selectors.payslip_list_for(request.user).filter(pk=payslip_id).first()
    if payslip is None:
        raise Http404("No such payslip.")
    return payslip


@login_required
@require_GET
def periods_page(request):
    _require_payroll(request)
    periods = list(selectors.period_list_for(request.user)[:100])
    return render(request, "payroll/periods.html", {"periods": periods})


@login_required
@require_GET
def period_page(request, period_id):
    _require_payroll(request)
    period = _period(request, period_id)
    payslips = list(selectors.period_payslips(period))
    for payslip in payslips:
        payslip.editable = (payslip.approval_status == "draft" and permissions.can_edit_payslip(request.user, payslip))
    can_manage = permissions.can_manage_payroll(request.user)
    wallets = [w for w in Wallet.objects.for_organization(period.organization_id).filter(
        wallet_type=WalletType.PRIVATE_KEY, is_active=True).order_by("name")
        if permissions.can_send_from_wallet(request.user, w)] if can_manage else []
    return render(request, "payroll/period.html", {
        "period": period, "payslips": payslips, "can_manage": can_manage, "wallets": wallets})


def _act(request, work, success: str):
    try:
        work()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


@login_required
@require_POST
def payslip_edit(request, payslip_id):
    _require_manager(request)
    payslip = _payslip(request, payslip_id)
    changes = {name: request.POST[name].strip() for name in ("bonus_amount", "overtime_hours")
               if request.POST.get(name, "").strip()}
    _act(request, lambda: services.payslip_update(actor=request.user, payslip=payslip, **changes),
         f"Payslip {payslip.payslip_id} updated.")
    return redirect("payroll-period", period_id=payslip.period_id)


@login_required
@require_POST
def payslip_approve(request, payslip_id):
    _require_manager(request)
    payslip = _payslip(request, payslip_id)
    _act(request, lambda: services.payslip_approve(actor=request.user, payslip=payslip),
         f"Payslip {payslip.payslip_id} approved.")
    return redirect("payroll-period", period_id=payslip.period_id)


@login_required
@require_POST
def period_process(request, period_id):
    _require_manager(request)
    period = _period(request, period_id)
    wallet_id = request.POST.get("wallet_id", "").strip() or None
    _act(request, lambda: services.payroll_period_process(actor=request.user, period=period,
                                                          reference=request.POST.get("reference", ""),
                                                          session=current_session(request), wallet_id=wallet_id),
         f"Approved payslips of {period.period_id} processed: bank and cash paid, crypto payouts sent "
         f"(paid once confirmed on chain).")
    return redirect("payroll-period", period_id=period.pk)


@login_required
@require_GET
def my_payslips_page(request):
    if not permissions.can_use_backoffice(request.user):
        raise PermissionDenied("My payslips are for members of an organization.")
    payslips = list(selectors.payslip_list_for(request.user, employee_id=request.user.pk)[:100])
    return render(request, "payroll/my_payslips.html", {"payslips": payslips})
