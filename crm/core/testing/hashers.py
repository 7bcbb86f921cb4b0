from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 (same algorithm and hash format) with the cheapest parameters, for test suites
    that create hundreds of users. Never use it outside tests."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
