import pytest

from portal.roles import Role
from tests.portal.conftest import make_member, other_service, person_with_consents, service

__all__ = ["other_service", "person_with_consents", "service"]


@pytest.fixture
def worker(service):
    """A peer support worker of ``service``."""
    return make_member(Role.PEER_SUPPORT_WORKER, service)
