"""`manage.py create_user --username U --email E --fiat USD|GBP|EUR|... [--password-stdin]`

A stable interface, beside `import_transactions` and `tax_report`: creates an active user with a
verified email in a new organization of their own (its ADMIN), whose reporting fiat is `--fiat`, ready
for `import_transactions --user U` and `tax_report --user U`. With `--password-stdin` the password is
the first line of standard input (it must pass the password validators); without it the account has
an unusable password (it cannot log in until a password reset). An existing username or email, an
unsupported fiat or a refused password is an error: exit code 1, a message on stderr, nothing
written. The supported fiat currencies are `core.currencies.REPORTING_FIATS` (the importer's list).
"""

from __future__ import annotations

import secrets
import sys

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import user_create
from core.currencies import REPORTING_FIATS, normalise_fiat
from core.transactions import in_transaction


def _messages(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(texts)}" for field, texts in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = "Create an active, verified user in a new organization of their own with the given reporting fiat."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--fiat", required=True, help=f"reporting fiat: one of {', '.join(sorted(REPORTING_FIATS))}")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")

    def handle(self, *args, **options):
        username, email = options["username"].strip(), options["email"].strip().lower()
        fiat = normalise_fiat(options["fiat"])
        if fiat is None:
            raise CommandError(f"not a supported fiat currency: {options['fiat']!r} "
                               f"(one of {', '.join(sorted(REPORTING_FIATS))})")
        if not username:
            raise CommandError("--username must not be empty")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"a user named {username!r} already exists; nothing was changed")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"a user with the email {email!r} already exists; nothing was changed")
        if options["password_stdin"]:
            stdin = options.get("stdin") or sys.stdin
            password = stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: no password on standard input; nothing was changed")
        else:
            # user_create validates a password: give it a random one, then make it unusable. Drawn again
            # if it happens to hold the username or the email's name (the validators refuse that).
            personal = [value.lower() for value in (username, email.split("@")[0]) if len(value) >= 3]
            password = secrets.token_urlsafe(32) + "!Aa1"
            while any(value in password.lower() for value in personal):
                password = secrets.token_urlsafe(32) + "!Aa1"
        try:
            def create_write():
                user = user_create(username=username, email=email, password=password, first_name=username,
                                   last_name="User",
                                   organization=None, is_active=True, email_verified=True)
                if not options["password_stdin"]:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                organization = user.organization
                organization.reporting_fiat = fiat
                organization.name = username[:200]
                organization.save(update_fields=["reporting_fiat", "name", "updated_at"])
                # The new organization's default chart was made in the default fiat a moment ago, with
                # no entry on it yet: it is kept in the reporting fiat, like every organization's.
                apps.get_model("ledger", "FinancialAccount").objects.filter(
                    organization_id=organization.pk).update(currency=fiat)
                return user, organization
            user, organization = in_transaction(create_write)
        except ValidationError as exc:
            raise CommandError(f"cannot create {username!r}: {_messages(exc)}; nothing was changed") from None
        self.stdout.write(f"created user {user.username} ({user.email}) in organization {organization.name!r} "
                          f"(reporting fiat {fiat}"
                          + (", no usable password" if not options["password_stdin"] else "") + ")")
