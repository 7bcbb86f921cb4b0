import pytest

from crm.core.access.levels import Scope
from crm.core.testing.org import make_tree, make_user


def pytest_configure(config):
    from django.conf import settings

    # Real Argon2, cheap parameters: a test suite creates hundreds of users.
    settings.PASSWORD_HASHERS = ["crm.core.testing.hashers.QuickArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _commit_hooks():
    """After-commit callbacks (event subscribers, the search index) run when the test's own
    transaction would have committed (crm.core.testing.commit)."""
    from crm.core.testing.commit import commit_hooks_as_if_committed

    with commit_hooks_as_if_committed():
        yield


@pytest.fixture
def depts(db):
    return make_tree()


@pytest.fixture
def admin(depts):
    return make_user("root", depts["hq"], is_superuser=True, is_staff=True)


@pytest.fixture
def rep(depts):
    """A sales rep in Sales1 who sees and edits own customers and contacts."""
    return make_user("rep", depts["sales1"], {"customers": Scope.OWN, "contacts": Scope.OWN,
                                               ("employees", "view"): Scope.ALL, ("departments", "view"): Scope.ALL})


@pytest.fixture
def manager(depts):
    """The Shanghai branch manager: department subtree, may reveal phones."""
    return make_user("manager", depts["shanghai"], {"customers": Scope.SUBTREE, "contacts": Scope.SUBTREE,
                                                     ("employees", "view"): Scope.ALL}, specials=["reveal_phone"])


@pytest.fixture
def api():
    """An API client whose every response is validated against docs/openapi.yaml (status and
    body); authenticate with `api.as_user(user)` (a real API token) or `api.force_login(user)`."""
    from crm.core.testing.openapi import ValidatingAPIClient

    return ValidatingAPIClient()
