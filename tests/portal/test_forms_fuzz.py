"""Property-based: no input to the sign-in or consent forms ever causes a 500."""

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.sms import MemorySMSClient
from portal.roles import Role
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db

EXAMPLES = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text that looks like what people type, plus anything at all.
phone_like = st.one_of(
    st.from_regex(r"\A[+0(]?[0-9 ()\-]{0,20}\Z", fullmatch=True),
    st.text(max_size=60),
)
any_text = st.one_of(
    st.text(max_size=80), st.sampled_from(["", " ", "\x00", "<script>", "' OR 1=1"])
)


def form_data(**fields):
    return st.fixed_dictionaries(fields)


@FUZZ
@given(data=form_data(phone=phone_like))
def test_request_code_form_never_errors(data, service):
    cache.clear()
    MemorySMSClient.outbox.clear()
    response = Client().post("/accounts/login/code/", data)
    assert response.status_code in {200, 302, 429}


@pytest.fixture
def person_with_mobile(service):
    return make_member(Role.SERVICE_USER, service, mobile="+447700900555")


@FUZZ
@given(data=form_data(code=any_text))
def test_confirm_code_form_never_errors(data, person_with_mobile):
    cache.clear()
    client = Client()
    client.post("/accounts/login/code/", {"phone": "07700900555"})
    response = client.post("/accounts/login/code/confirm/", data)
    assert response.status_code in {200, 302, 429}


@FUZZ
@given(data=form_data(login=any_text, password=any_text))
def test_password_sign_in_form_never_errors(data, service):
    cache.clear()
    response = Client().post("/accounts/login/", data)
    assert response.status_code in {200, 302, 429}


@pytest.fixture
def signed_in_service_user(service, person_with_consents):
    client = Client()
    client.force_login(person_with_consents)
    return client, person_with_consents


@FUZZ
@given(data=form_data(purpose=any_text))
def test_give_consent_form_never_errors(data, signed_in_service_user):
    client, _ = signed_in_service_user
    response = client.post("/my/consents/give/", data)
    assert response.status_code == 302


@FUZZ
@given(consent_id=st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_withdraw_consent_with_any_id_never_errors(consent_id, signed_in_service_user):
    client, person = signed_in_service_user
    if consent_id < 0:
        response = client.post(f"/my/consents/{consent_id}/withdraw/")
        assert response.status_code == 404  # not even a URL
        return
    response = client.post(f"/my/consents/{consent_id}/withdraw/")
    own = person.consents.filter(pk=consent_id).exists()
    assert response.status_code == (302 if own else 404)


@FUZZ
@given(data=form_data(decision=any_text, purpose=any_text, method=any_text))
def test_staff_consent_form_never_errors(data, service, person_with_consents):
    client = Client()
    client.force_login(service.memberships.filter(role=Role.PEER_SUPPORT_WORKER).first().user)
    response = client.post(f"/staff/people/{person_with_consents.pk}/consents/", data)
    assert response.status_code in {302, 400}
