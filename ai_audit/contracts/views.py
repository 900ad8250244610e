"""Back-office (HTMX) pages of the contract registry under /app/contracts/.

- the list: every contract of the organization (network, type, verification status), 50 a page, and
  for managers a register form;
- the detail: code facts, deployment, token metadata, the verification status with a verify form
  (managers), and the ABI's functions as forms: reads run live (hx-post, result inline), writes pick
  a Private Key wallet and ask for the password unless the session is approved (same rules as sends).
Every refusal of a service (DomainError) is shown as its message next to the form.
"""

from __future__ import annotations

import json
import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import user_session_get
from accounts.sessions import require_approved_session, session_approve
from ai_audit.contracts import abi_args, services, solc
from ai_audit.contracts.selectors import contract_list_for
from ai_audit.models import Contract, ContractType
from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput
from core.jsonapi.auth import BROWSER_SESSION_KEY, client_ip
from core.http_status import http_status_of
from core.windows import page_number
from wallets import networks, transfers
from wallets.models import OPEN_TRANSFER_STATUSES, OutgoingTransfer, TransferKind, Wallet, WalletType

PAGE_ROWS = 50


def _require_view(request) -> None:
    if not permissions.can_view_contracts(request.user):
        raise PermissionDenied("Only members of an organization see its contracts.")


def _browser_session(request):
    session_id = request.session.get(BROWSER_SESSION_KEY)
    return user_session_get(session_id=session_id) if session_id else None


def _session_approved(session) -> bool:
    try:
        require_approved_session(session)
    except DomainError:
        return False
    return True


def _status(request, exc: DomainError) -> int:
    """htmx swaps only 2xx answers: a partial carrying an error message is a 200 for it."""
    return 200 if request.htmx else http_status_of(exc)


def _list_context(request, *, form=None, error="") -> dict:
    page = page_number(request.GET.get("page"))
    start = (page - 1) * PAGE_ROWS
    rows = list(contract_list_for(request.user)[start:start + PAGE_ROWS + 1])
    return {"contracts": rows[:PAGE_ROWS], "has_next": len(rows) > PAGE_ROWS, "page": page,
            "networks": networks.networks(), "types": ContractType.choices, "form": form or {}, "error": error,
            "can_manage": permissions.can_manage_contracts(request.user)}


@login_required
@require_GET
def contract_list_page(request):
    _require_view(request)
    return render(request, "ai_audit/contracts/contract_list.html", _list_context(request))


@login_required
@require_POST
def contract_register_action(request):
    _require_view(request)
    form = {name: request.POST.get(name, "").strip() for name in ("address", "network", "name", "contract_type", "abi")}
    try:
        abi = None
        if form["abi"]:
            try:
                abi = json.loads(form["abi"])
            except ValueError:
                raise InvalidInput(ErrorCode.INVALID_ABI, "The ABI is not valid JSON.", {"field": "abi"}) from None
        contract = services.contract_register(actor=request.user, address=form["address"], network=form["network"],
                                              name=form["name"], contract_type=form["contract_type"] or "custom",
                                              abi=abi)
    except DomainError as exc:
        return render(request, "ai_audit/contracts/contract_list.html",
                      _list_context(request, form=form, error=exc.message), status=_status(request, exc))
    return redirect("contract-detail", contract_id=contract.pk)


def _visible_contract(request, contract_id) -> Contract:
    _require_view(request)
    contract = contract_list_for(request.user).filter(pk=contract_id).first()
    if contract is None:
        raise Http404
    return contract


def _function_forms(contract: Contract) -> list[dict]:
    forms = []
    for entry in abi_args.functions(contract.abi or []):
        forms.append({
            "signature": abi_args.signature(entry), "name": entry["name"], "is_read": abi_args.is_read(entry),
            "payable": abi_args.is_payable(entry),
            "inputs": [{"index": index, "name": param.get("name") or f"arg{index}", "type": abi_args.canonical_type(param),
                        "json": param["type"].endswith("]") or param["type"].startswith("tuple")}
                       for index, param in enumerate(entry.get("inputs", []))],
            "dom_id": "fn-" + uuid.uuid5(uuid.NAMESPACE_OID, abi_args.signature(entry)).hex[:12],
        })
    return sorted(forms, key=lambda form: (not form["is_read"], form["name"]))


def _detail_context(request, contract: Contract, *, verify_error="", verify_form=None) -> dict:
    wallets = list(Wallet.objects.for_actor(request.user).filter(wallet_type=WalletType.PRIVATE_KEY, is_active=True)
                   .order_by("name"))
    wallets = [wallet for wallet in wallets if permissions.can_send_from_wallet(request.user, wallet)]
    calls = list(OutgoingTransfer.objects.for_actor(request.user).filter(
        kind=TransferKind.CONTRACT_CALL, to_address=contract.address, network=contract.network).order_by("-created_at")[:10])
    # Settle the open ones from their own network's node (the reconciler covers only the default chain).
    calls = [transfers.transfer_refresh(call) if call.status in OPEN_TRANSFER_STATUSES else call for call in calls]
    try:
        network = networks.network_get(contract.network)
    except DomainError:
        network = None
    return {"contract": contract, "functions": _function_forms(contract), "wallets": wallets, "calls": calls,
            "network": network, "explorer_url": network.explorer_address_url(contract.address) if network else "",
            "session_approved": _session_approved(_browser_session(request)),
            "can_manage": permissions.can_manage_contracts(request.user), "versions": solc.solc_versions(),
            "verify_error": verify_error, "verify_form": verify_form or {}, "idempotency_key": uuid.uuid4().hex}


@login_required
@require_GET
def contract_detail_page(request, contract_id):
    contract = _visible_contract(request, contract_id)
    return render(request, "ai_audit/contracts/contract_detail.html", _detail_context(request, contract))


@login_required
@require_POST
def contract_verify_action(request, contract_id):
    contract = _visible_contract(request, contract_id)
    data = request.POST
    form = {"compiler_version": data.get("compiler_version", ""), "source": data.get("source", ""),
            "contract_name": data.get("contract_name", "").strip(), "optimizer_enabled": data.get("optimizer_enabled") == "1",
            "optimizer_runs": data.get("optimizer_runs", "200").strip() or "200", "evm_version": data.get("evm_version", "")}
    try:
        try:
            runs = int(form["optimizer_runs"])
        except ValueError:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Optimizer runs must be a whole number.") from None
        source, standard = form["source"], None
        if source.lstrip().startswith("{"):
            try:
                standard, source = json.loads(source), None
            except ValueError:
                raise InvalidInput(ErrorCode.INVALID_SOURCE, "The standard-JSON input is not valid JSON.") from None
        contract = services.contract_verify(
            actor=request.user, contract=contract, compiler_version=form["compiler_version"], source=source,
            standard_json=standard, contract_name=form["contract_name"], optimizer_enabled=form["optimizer_enabled"],
            optimizer_runs=runs, evm_version=form["evm_version"])
        status, error = 200, ""
    except DomainError as exc:
        contract.refresh_from_db()
        status, error = _status(request, exc), exc.message
    context = _detail_context(request, contract, verify_error=error, verify_form=form)
    template = "ai_audit/contracts/_verification.html" if request.htmx else "ai_audit/contracts/contract_detail.html"
    return render(request, template, context, status=status)


def _form_args(function: dict, data) -> list:
    args = []
    for param in function["inputs"]:
        raw = data.get(f"arg_{param['index']}", "").strip()
        if param["json"]:
            try:
                args.append(json.loads(raw or "[]"))
            except ValueError:
                raise InvalidInput(ErrorCode.INVALID_ARGUMENT, f"Argument {param['name']!r} must be JSON (a list).",
                                   {"argument": param["name"]}) from None
        else:
            args.append(raw)
    return args


@login_required
@require_POST
def contract_call_action(request, contract_id):
    """One function's form posted: a read answers its decoded results; a write is signed and sent."""
    contract = _visible_contract(request, contract_id)
    data = request.POST
    signature = data.get("function", "")
    function = next((form for form in _function_forms(contract) if form["signature"] == signature), None)
    context = {"contract": contract, "function": function, "result": None, "sent": None, "error": ""}
    status = 200
    try:
        if function is None:
            raise InvalidInput(ErrorCode.UNKNOWN_FUNCTION, "The contract's ABI has no such function.")
        args = _form_args(function, data)
        if function["is_read"]:
            context["result"] = services.contract_call_read(actor=request.user, contract=contract,
                                                            function=signature, args=args)
        else:
            session = _browser_session(request)
            password = data.get("password", "")
            if password and session is not None and not _session_approved(session):
                session = session_approve(session=session, password=password, ip=client_ip(request))
            if not _session_approved(session):
                raise InvalidInput(ErrorCode.SESSION_NOT_APPROVED, "Enter your password to approve this call.")
            transfer, _ = services.contract_call_write(
                actor=request.user, session=session, contract=contract, function=signature, args=args,
                wallet_id=data.get("wallet_id") or None, value=data.get("value", "0").strip() or "0",
                idempotency_key=data.get("idempotency_key", ""))
            context["sent"] = transfer
    except DomainError as exc:
        context["error"] = exc.message
        status = _status(request, exc)
    return render(request, "ai_audit/contracts/_call_result.html", context, status=status)
