"""The schemathesis fuzz of tests/fuzz/test_openapi_fuzz.py as a plain member (USER) of an
organization: every operation answers without a 5xx and as documented (most answer 403 or 404 to a
member, and say so in the schema), with FUZZ_MAX_EXAMPLES requests per operation and mode, like the
admin's run. A member is refused early: 168 operations, about 700 requests in some 20 s here."""

import pytest

from accounts.models import Role
from tests.fuzz.test_openapi_fuzz import MAX_EXAMPLES, fuzz_as

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_every_operation_answers_a_member_without_5xx_and_as_documented(make_user, access_token_for, settings):
    fuzz_as(Role.USER, MAX_EXAMPLES, make_user, access_token_for, settings)
