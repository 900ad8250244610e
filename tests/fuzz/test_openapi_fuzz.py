"""Schemathesis (pinned: 4.32.5, requirements.lock) over the whole OpenAPI schema of /api/, in
process through the WSGI app, as a real signed-in ADMIN of one organization (not a platform
superuser).

Every operation gets FUZZ_MAX_EXAMPLES (default 3) generated requests that match the schema and as
many that break it (wrong types, missing fields, out-of-range values), derandomized so a failure
reproduces. Checks: no 5xx (`not_a_server_error`), the status code is documented
(`status_code_conformance`), the content type (`content_type_conformance`) and the body
(`response_schema_conformance`) match the schema. Every failing operation is listed with its request
and answer, and the test fails if there is one. FUZZ_OPERATIONS=substring narrows the run (a path or
"POST /api/..."); FUZZ_PROGRESS=1 prints one line per operation with -s.

Operations that end the signed-in session (logout, leaving the organization, deleting the account)
get a fresh login before each example, so they do not blind the others. Bounded: at the default
budget about 6 requests per operation.
"""

import os
import time

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
ONLY = os.environ.get("FUZZ_OPERATIONS", "")
PROGRESS = os.environ.get("FUZZ_PROGRESS", "") == "1"  # one line per operation (with -s)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SESSION_ENDING = ("/api/auth/logout", "/leave", "/api/auth/delete", "/api/auth/change-password",
                  "/api/auth/password")


def _titles(error) -> str:
    if isinstance(error, FailureGroup):
        return "; ".join(getattr(failure, "title", type(failure).__name__) for failure in error.exceptions)
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:200]}" if text else type(error).__name__


def _describe(case, response) -> str:
    body = response.text[:300].replace("\n", " ") if response is not None else ""
    request = f"{case.method} {case.formatted_path}"
    if case.query:
        request += f" query={case.query!r}"[:300]
    if case.body is not None and not isinstance(case.body, bytes):
        request += f" body={case.body!r}"[:600]
    status = response.status_code if response is not None else "no answer"
    return f"{request} -> {status} {body}"


def test_every_operation_answers_without_5xx_and_as_documented(make_user, access_token_for, settings):
    fuzz_as(Role.ADMIN, MAX_EXAMPLES, make_user, access_token_for, settings)


def fuzz_as(role, max_examples, make_user, access_token_for, settings):
    """The whole schema as a signed-in `role` of one organization (tests/fuzz/test_openapi_fuzz_member.py:
    a plain member, for whom most operations answer 403 or 404, as documented)."""
    # The fuzz signs in again before each example of a session-ending operation, and sends random
    # logins: the limits (tested in tests/accounts) would only turn the rest of its run into 429s.
    settings.AUTH_RATE_LIMIT_PER_IP = settings.AUTH_RATE_LIMIT_PER_ACCOUNT = (10**6, 60)
    settings.LOCKOUT_THRESHOLD = 10**6
    user = make_user(role=role)
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: dict[str, list[str]] = {}
    operations = requests = skipped_modes = 0
    began = time.monotonic()
    token = {"value": access_token_for(user)}

    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if ONLY and ONLY not in label:
            continue
        operations += 1
        ends_session = any(part in operation.path for part in SESSION_ENDING)

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @hypothesis_settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal requests
                if ends_session:
                    token["value"] = access_token_for(user)
                requests += 1
                response = None
                try:
                    response = case.call(headers={"Authorization": f"Bearer {token['value']}"})
                    case.validate_response(response, checks=CHECKS)
                except (Exception, FailureGroup) as error:  # failed checks, or an exception the app raised
                    found = failures.setdefault(label, [])
                    if len(found) < 3:
                        found.append(f"[{mode.value}] {_titles(error)}\n      {_describe(case, response)}")

            try:
                run()
            except Unsatisfiable:  # no request of this kind exists (e.g. nothing to break in a bare GET)
                skipped_modes += 1
        if PROGRESS:
            print(f"  {time.monotonic() - began:6.1f}s  {label}", flush=True)

    seconds = time.monotonic() - began
    print(f"\nschemathesis {schemathesis.SCHEMATHESIS_VERSION} as {role}: {operations} operations, {requests} requests, "
          f"{len(failures)} failing operations, {skipped_modes} generation modes with no possible case, {seconds:.0f}s")
    listing = "\n".join(f"{label}\n    " + "\n    ".join(found) for label, found in sorted(failures.items()))
    assert operations > 50 or ONLY
    assert not failures, f"{len(failures)} operations fail the fuzz checks:\n{listing}"
