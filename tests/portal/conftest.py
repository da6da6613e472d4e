import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from portal.models import Membership
from portal.roles import Role
from portal.services import consent_give, consent_wording_ensure
from tests.factories import ServiceFactory, UserFactory


@pytest.fixture
def service(db):
    return ServiceFactory(name="Service A", slug="service-a")


@pytest.fixture
def other_service(db):
    return ServiceFactory(name="Service B", slug="service-b")


def make_member(role: Role, service, *, enrol_mfa: bool = True, **user_fields):
    if role == Role.SERVICE_USER:
        user_fields.setdefault("email", "")
        user_fields.setdefault("mobile", f"+447700900{Membership.objects.count() + 100:03d}")
    user = UserFactory(**user_fields)
    if role == Role.ADMINISTRATOR:
        user.is_staff = user.is_superuser = True
        user.save()
    Membership.objects.create(user=user, service=service, role=role)
    if enrol_mfa and role != Role.SERVICE_USER:
        TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def member(db):
    return make_member


@pytest.fixture
def person_with_consents(service):
    """A service user in ``service`` with peer support and SMS consent, recorded by staff."""
    consent_wording_ensure()
    person = make_member(Role.SERVICE_USER, service, first_name="Avery")
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    for purpose in ("peer_support", "sms_reminders"):
        consent_give(
            subject=person,
            service=service,
            purpose=purpose,
            method="verbal_custody",
            recorded_by=worker,
        )
    return person
