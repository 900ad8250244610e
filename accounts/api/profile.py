"""/api/auth/profile/ (your own profile) and /api/notifications/ (your notifications)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from accounts.api.schemas import UserOut
from accounts.employees import employee_get_for
from accounts.models import Notification, NotificationPriority, NotificationType
from accounts.notifications import notification_create
from accounts.profile import profile_update
from accounts.selectors import notification_list_visible
from accounts.sessions import auth_rate_limits
from core import permissions
from core.jsonapi.auth import api_auth, client_ip
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import NewestFirstWindow
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import ObjectIdStr
from core.models import CostBasisMethod, LotScope

router = Router()  # under /api/auth/
notifications_router = Router(tags=["notifications"])


@router.get("/profile/", response=UserOut, auth=api_auth, summary="Your profile")
def profile(request):
    auth_rate_limits(scope="profile", ip=client_ip(request), account=str(request.user.pk))
    return request.user


class ProfileIn(StrictSchema):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    phone_number: str | None = Field(None, max_length=32)
    company: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    wallet_address: str | None = Field(None, max_length=42)
    reporting_fiat: str | None = Field(None, min_length=3, max_length=3, description="fiat of values and reports")
    cost_basis_method: CostBasisMethod | None = None
    cost_basis_lot_scope: LotScope | None = Field(None, description="match lots across all wallets or per wallet")


@router.put("/profile/", response=UserOut, auth=api_auth, summary="Update your profile")
def profile_put(request, payload: ProfileIn):
    auth_rate_limits(scope="profile-update", ip=client_ip(request), account=str(request.user.pk))
    return profile_update(user=request.user, ip=client_ip(request), **payload.dict(exclude_none=True))


# --- /api/notifications/ -------------------------------------------------------------------------------

class NotificationOut(Schema):
    id: ObjectIdStr
    type: str
    title: str
    message: str
    is_read: bool
    priority: str
    action_url: str
    action_text: str
    metadata: dict
    expires_at: datetime | None
    created_at: datetime


class NotificationIn(StrictSchema):
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000)
    type: NotificationType = NotificationType.SYSTEM
    priority: NotificationPriority = NotificationPriority.MEDIUM
    action_url: str = Field("", max_length=500)
    action_text: str = Field("", max_length=100)
    metadata: dict = Field(default_factory=dict)
    expires_at: datetime | None = None
    user_id: ObjectIdStr | None = Field(None, description=(
        "recipient; default yourself (managers: the members of their organization they manage)"))


@notifications_router.get("/", response=list[NotificationOut], auth=api_auth, summary="Your notifications")
@paginate(NewestFirstWindow, date_field="created_at", scope=Notification.time_index_scope, owner_attribute="pk")
def notification_list(request, unread: bool = False):
    return notification_list_visible(user=request.user, unread=unread)


@notifications_router.post("/", response={201: NotificationOut}, auth=api_auth, summary="Create a notification")
def notification_post(request, payload: NotificationIn):
    recipient = request.user
    if payload.user_id and payload.user_id != request.user.pk:
        recipient = employee_get_for(request.user, payload.user_id)
        permissions.require(permissions.can_manage_member(request.user, recipient),
                            "You may notify yourself and the members you manage.")
    return Status(201, notification_create(user=recipient, **payload.dict(exclude={"user_id"})))


@notifications_router.put("/{oid:notification_id}/read/", response=NotificationOut, auth=api_auth,
                          summary="Mark a notification read")
def notification_read(request, notification_id: str):
    notification = get_object_or_404(Notification.objects.filter(user=request.user), notification_id)
    Notification.objects.filter(pk=notification.pk).update(is_read=True)
    notification.refresh_from_db()
    return notification


@notifications_router.delete("/{oid:notification_id}/", response=MessageOut, auth=api_auth,
                             summary="Delete a notification")
def notification_delete(request, notification_id: str):
    notification = get_object_or_404(Notification.objects.filter(user=request.user), notification_id)
    notification.delete()
    return {"message": "Deleted."}
