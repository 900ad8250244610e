"""bcrypt with 4 rounds instead of 12 for the tests: the same algorithm and hash format, ~60x cheaper."""

from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class FastBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    rounds = 4
