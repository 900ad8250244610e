"""Users: every field of the spec's Users collection, from the first migration."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    USER = "USER", "User"
    MANAGER = "MANAGER", "Manager"
    ADMIN = "ADMIN", "Admin"


class User(AbstractUser):
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)

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
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN
