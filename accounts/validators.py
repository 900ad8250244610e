"""Password complexity: upper, lower, digit and symbol (beside Django's length, similarity and
common-password validators), and the checks services run on a password or an email address."""

import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


class ComplexityValidator:
    RULES = (
        (r"[A-Z]", "an upper-case letter"),
        (r"[a-z]", "a lower-case letter"),
        (r"[0-9]", "a digit"),
        (r"[^A-Za-z0-9]", "a symbol"),
    )

    def validate(self, password, user=None):
        missing = [label for pattern, label in self.RULES if not re.search(pattern, password or "")]
        if missing:
            raise ValidationError(
                "The password must contain " + ", ".join(missing) + ".", code="password_too_simple"
            )

    def get_help_text(self):
        return "Your password must contain an upper-case letter, a lower-case letter, a digit and a symbol."


class PersonalDataValidator:
    """Refuses passwords containing the username, a name or the email's local part (3+ letters),
    which Django's similarity validator lets through when the password is longer."""

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = (password or "").lower()
        email_local = (getattr(user, "email", "") or "").split("@")[0]
        for value in (getattr(user, "username", ""), getattr(user, "first_name", ""),
                      getattr(user, "last_name", ""), email_local):
            value = (value or "").lower()
            if len(value) >= 3 and value in lowered:
                raise ValidationError("The password must not contain your name, username or email.",
                                      code="password_contains_personal_data")

    def get_help_text(self):
        return "Your password must not contain your name, username or email."


# Django's validate_password / validate_email raise errors that name no field; services name the field
# that carried the value, so the API reports each refusal at its place (core.jsonapi.errors).

def password_validate(password: str, user=None, *, field: str = "password") -> None:
    """Every password rule the value breaks, as a ValidationError on `field`."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def email_validate(email: str, *, field: str = "email") -> None:
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None
