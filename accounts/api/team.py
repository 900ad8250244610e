"""The employees of your organization, as its managers and admins manage them: /api/auth/employees/...
and /api/employees/... (the spec lists both)."""

from __future__ import annotations

from ninja import Field, Router, Status
from ninja.pagination import paginate

from accounts import employees as team
from accounts.api.schemas import InvitationOut, UserOut
from accounts.organizations import member_remove
from core.jsonapi.auth import api_auth, client_ip
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import ObjectIdStr

auth_employees_router = Router(tags=["employees"])  # under /api/auth/employees/
employees_router = Router(tags=["employees"])  # /api/employees/


class EmployeeOut(UserOut):
    manager_id: ObjectIdStr | None
    is_active: bool


class EmployeeIn(StrictSchema):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    email: str = Field(max_length=254)
    first_name: str = Field(min_length=1, max_length=150)
    last_name: str = Field(min_length=1, max_length=150)
    department: str = Field("", max_length=200)
    employee_id: str | None = Field(None, max_length=64)
    phone_number: str = Field("", max_length=32)


class ExistingEmployeeIn(StrictSchema):
    username: str = Field(min_length=1, max_length=254, description="username or email")


class StatusIn(StrictSchema):
    is_active: bool


class EmployeeUpdateIn(StrictSchema):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    phone_number: str | None = Field(None, max_length=32)
    company: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    employee_id: str | None = Field(None, max_length=64)
    is_accountant: bool | None = Field(None, description="admins only: works the books without being a manager")


class VerifyIn(StrictSchema):
    approve: bool = True


def _create_employee(request, payload: EmployeeIn):
    employee = team.employee_invite(actor=request.user, ip=client_ip(request), **payload.dict(exclude_none=True))
    return Status(201, employee)


@auth_employees_router.post("/add/", response={201: EmployeeOut}, auth=api_auth, summary="Create a new employee",
                            description=(
    "Managers and admins: creates the account of a new person (username and email not yet registered) "
    "directly in your organization, as a plain user in your team awaiting your verification, and emails "
    "them a link to set their password. An existing user is invited instead: "
    "POST /api/auth/employees/add-existing/ or /api/auth/invitations/."))
def auth_employee_add(request, payload: EmployeeIn):
    return _create_employee(request, payload)


@auth_employees_router.get("/", response=list[EmployeeOut], auth=api_auth, summary="Your team",
                           description="A manager's own team; an admin's whole organization.")
@paginate(LimitOffsetNoCount)
def auth_employee_list(request):
    return team.employee_list_for(request.user)


@auth_employees_router.put("/{oid:employee_id}/status/", response=EmployeeOut, auth=api_auth,
                           summary="Activate or deactivate an employee")
def auth_employee_status(request, employee_id: str, payload: StatusIn):
    employee = team.employee_get_for(request.user, employee_id)
    return team.employee_set_active(actor=request.user, employee=employee, is_active=payload.is_active,
                                    ip=client_ip(request))


@auth_employees_router.post("/add-existing/", response={202: InvitationOut}, auth=api_auth,
                            summary="Invite an existing user to your organization", description=(
    "Never moves anyone: emails the user (found by username or email) an invitation to join your "
    "organization as a plain user in your team. They accept or decline it; only then does the "
    "manager verification run. Answers 202 with the invitation; 404 for an unknown user, 409 when "
    "they are already a member."))
def auth_employee_add_existing(request, payload: ExistingEmployeeIn):
    invitation = team.employee_add_existing(actor=request.user, login=payload.username, ip=client_ip(request))
    return Status(202, invitation)


@auth_employees_router.delete("/{oid:employee_id}/remove/", response=MessageOut, auth=api_auth,
                              summary="Remove a member from your organization", description=(
    "The person moves to a fresh personal organization of their own (as its admin); nothing of theirs "
    "is deleted, and the wallets they made here stay here. They are notified by email."))
def auth_employee_remove(request, employee_id: str):
    employee = team.employee_get_for(request.user, employee_id)
    member_remove(actor=request.user, member=employee, ip=client_ip(request))
    return {"message": "Removed from the organization."}


@employees_router.get("/", response=list[EmployeeOut], auth=api_auth, summary="List employees")
@paginate(LimitOffsetNoCount)
def employee_list(request):
    return team.employee_list_for(request.user)


@employees_router.post("/", response={201: EmployeeOut}, auth=api_auth, summary="Create a new employee")
def employee_create(request, payload: EmployeeIn):
    return _create_employee(request, payload)


@employees_router.get("/team/{oid:manager_id}/", response=list[EmployeeOut], auth=api_auth,
                      summary="A manager's team")
@paginate(LimitOffsetNoCount)
def employee_team(request, manager_id: str):
    return team.manager_team_for(request.user, manager_id)


@employees_router.get("/{oid:employee_id}/", response=EmployeeOut, auth=api_auth, summary="Employee details")
def employee_detail(request, employee_id: str):
    return team.employee_get_for(request.user, employee_id)


@employees_router.put("/{oid:employee_id}/", response=EmployeeOut, auth=api_auth, summary="Update an employee",
                      description="`is_accountant` (works the books without being a manager): admins only.")
def employee_put(request, employee_id: str, payload: EmployeeUpdateIn):
    employee = team.employee_get_for(request.user, employee_id)
    return team.employee_update(actor=request.user, employee=employee, ip=client_ip(request),
                                **payload.dict(exclude_none=True))


@employees_router.delete("/{oid:employee_id}/", response=MessageOut, auth=api_auth,
                         summary="Deactivate an employee and take them off their manager's team")
def employee_delete(request, employee_id: str):
    employee = team.employee_get_for(request.user, employee_id)
    team.employee_deactivate(actor=request.user, employee=employee, ip=client_ip(request))
    return {"message": "Deactivated and removed from the team; records are kept."}


@employees_router.post("/{oid:employee_id}/verify/", response=EmployeeOut, auth=api_auth,
                       summary="Verify (or reject) an employee")
def employee_verify(request, employee_id: str, payload: VerifyIn = None):
    employee = team.employee_get_for(request.user, employee_id)
    approve = payload.approve if payload is not None else True
    return team.employee_verify(actor=request.user, employee=employee, approve=approve, ip=client_ip(request))
