"""Users: every field of the spec's Users collection, from the first migration."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from core.permissions import Role
from core.tenancy import OrganizationOwned
from core.time_indexed import TimeIndexed, TimeIndexedQuerySet


class User(AbstractUser):
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    # Every user belongs to exactly one organization; the role means what it means within it
    # (core.permissions). Only the inactive system user has none.
    organization = models.ForeignKey("core.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    # Works the organization's books (entries, statements, tax reports) without being a manager.
    is_accountant = models.BooleanField(default=False)

    email_verified = models.BooleanField(default=False)
    # Single-use tokens are stored as hashes, never in clear (see accounts.services).
    verification_token = models.CharField(max_length=128, blank=True, default="")
    reset_password_token = models.CharField(max_length=128, blank=True, default="")
    reset_password_expires = models.DateTimeField(null=True, blank=True)
    session_token = models.CharField(max_length=128, blank=True, default="")
    session_approved = models.BooleanField(default=False)

    max_wallets = models.PositiveIntegerField(default=10)
    wallet_address = models.CharField(max_length=42, blank=True, default="")
    company = models.CharField(max_length=200, blank=True, default="")
    department = models.CharField(max_length=200, blank=True, default="")
    employee_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    phone_number = models.CharField(max_length=32, blank=True, default="")

    last_login_ip = models.GenericIPAddressField(null=True, blank=True)
    failed_login_attempts = models.PositiveIntegerField(default=0)
    account_locked_until = models.DateTimeField(null=True, blank=True)

    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="team_members"
    )
    is_verified_by_manager = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    REQUIRED_FIELDS = ["email", "first_name", "last_name"]

    class Meta:
        db_table = "users"
        indexes = [
            # Plain indexes beside the unique ones: the embedded server never uses partial
            # unique indexes for lookups (stack.md, defect 2).
            models.Index(fields=["username"], name="users_username_idx"),
            models.Index(fields=["email"], name="users_email_idx"),
            models.Index(fields=["employee_id"], name="users_employee_id_idx"),
            models.Index(fields=["role"], name="users_role_idx"),
            models.Index(fields=["organization", "role"], name="users_org_role_idx"),
        ]

    def __str__(self) -> str:
        return self.username



class SessionKind(models.TextChoices):
    API = "api", "API (JWT)"
    BROWSER = "browser", "Browser"


class UserSession(models.Model):
    """A login: the API's refresh-token session or a browser session. Only hashes of tokens are
    stored. Single session: a new login ends the others (is_active False, revoked_at set)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    # SHA-256 of the current refresh token (API) or of the Django session key (browser).
    session_token = models.CharField(max_length=64, unique=True)
    previous_token_hashes = models.JSONField(default=list, blank=True)  # rotated-out refresh tokens
    kind = models.CharField(max_length=10, choices=SessionKind.choices, default=SessionKind.API)
    device_info = models.CharField(max_length=300, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_approved = models.BooleanField(default=False)
    approved_until = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        db_table = "user_sessions"
        indexes = [
            models.Index(fields=["session_token"], name="user_sessions_token_idx"),
            models.Index(fields=["expires_at"], name="user_sessions_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} session of {self.user_id}"


class NotificationType(models.TextChoices):
    TRANSACTION = "TRANSACTION", "Transaction"
    INVOICE = "INVOICE", "Invoice"
    PAYROLL = "PAYROLL", "Payroll"
    SYSTEM = "SYSTEM", "System"
    SECURITY = "SECURITY", "Security"


class NotificationPriority(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


class Notification(TimeIndexed, models.Model):
    # A person's notifications per day, for their list's first-page window (core.time_indexed).
    time_index_scope, time_index_field, time_index_owner = "notifications", "created_at", "user_id"
    objects = TimeIndexedQuerySet.as_manager()

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=16, choices=NotificationType.choices, default=NotificationType.SYSTEM)
    title = models.CharField(max_length=200)
    message = models.TextField()
    is_read = models.BooleanField(default=False)
    priority = models.CharField(max_length=10, choices=NotificationPriority.choices,
                                default=NotificationPriority.MEDIUM)
    action_url = models.CharField(max_length=500, blank=True, default="")
    action_text = models.CharField(max_length=100, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="notifications_created_idx"),
                   models.Index(fields=["user", "-created_at"], name="notifications_user_created_idx")]

    def __str__(self) -> str:
        return self.title


class AuditLogEntry(TimeIndexed, models.Model):
    """Append-only record of security events and admin changes (never updated or deleted)."""

    # Entries per organization and day, for the admin list's newest-first window (core.time_indexed).
    time_index_scope, time_index_field = "audit_log", "created_at"

    action = models.CharField(max_length=64)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True, default="")
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_repr = models.CharField(max_length=200, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # The organization the event happened in (the actor's, or the one a person left); None for
    # installation-wide events, which only platform superusers see.
    organization = models.ForeignKey("core.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TimeIndexedQuerySet.as_manager()

    class Meta:
        db_table = "audit_log"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_log_org_created_idx"),
            models.Index(fields=["created_at"], name="audit_log_created_idx"),
            models.Index(fields=["action"], name="audit_log_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_username or '-'}"


class RateLimitCounter(models.Model):
    """Fixed-window request counters shared by every server process (atomic $inc upserts)."""

    key = models.CharField(max_length=200, unique=True)  # "<scope>:<subject>:<window start>"
    count = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField()

    class Meta:
        db_table = "rate_limit_counters"
        indexes = [
            models.Index(fields=["key"], name="rate_limit_key_idx"),
            models.Index(fields=["window_ends_at"], name="rate_limit_window_idx"),
        ]


class InvitationStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    ACCEPTED = "ACCEPTED", "Accepted"
    DECLINED = "DECLINED", "Declined"
    REVOKED = "REVOKED", "Revoked"


class Invitation(OrganizationOwned):
    """An organization's invitation to join it, sent to an email address (accounts.invitations).
    Joining is consented: nobody moves until the invitee accepts. Only the token's hash is stored;
    an invitation still PENDING after `expires_at` is expired."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "invitations"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="invitations_org_status_idx"),
            models.Index(fields=["email", "status"], name="invitations_email_status_idx"),
            models.Index(fields=["token_hash"], name="invitations_token_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.role}, {self.status})"
