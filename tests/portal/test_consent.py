"""Consent: given and withdrawn in as few steps; withdrawal counts at once."""

import pytest

from portal.models import Consent
from portal.roles import Role
from portal.selectors import consent_is_active
from portal.services import consent_give, consent_withdraw
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


def test_service_user_sees_their_consents_with_what_they_were_told(client, person_with_consents):
    client.force_login(person_with_consents)
    page = client.get("/my/consents/").content.decode()
    assert "You said yes" in page
    assert "The texts only say the day, the time and the place" in page


def test_withdrawing_takes_one_step_and_counts_at_once(client, person_with_consents):
    client.force_login(person_with_consents)
    consent = person_with_consents.consents.get(purpose="sms_reminders")
    assert consent_is_active(subject=person_with_consents, purpose="sms_reminders")
    response = client.post(f"/my/consents/{consent.pk}/withdraw/", follow=True)
    assert response.status_code == 200
    assert "You have withdrawn your agreement" in response.content.decode()
    assert not consent_is_active(subject=person_with_consents, purpose="sms_reminders")
    consent.refresh_from_db()
    assert consent.withdrawn_method == "online"
    assert consent.withdrawn_recorded_by == person_with_consents


def test_giving_again_after_withdrawing_keeps_the_history(client, person_with_consents):
    client.force_login(person_with_consents)
    consent = person_with_consents.consents.get(purpose="sms_reminders")
    client.post(f"/my/consents/{consent.pk}/withdraw/")
    client.post("/my/consents/give/", {"purpose": "sms_reminders"})
    rows = Consent.objects.filter(subject=person_with_consents, purpose="sms_reminders")
    assert rows.count() == 2
    assert rows.filter(withdrawn_at__isnull=True).count() == 1
    assert consent_is_active(subject=person_with_consents, purpose="sms_reminders")


def test_giving_twice_does_not_duplicate(service, person_with_consents):
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    again = consent_give(
        subject=person_with_consents,
        service=service,
        purpose="peer_support",
        method="written",
        recorded_by=worker,
    )
    assert (
        Consent.objects.filter(subject=person_with_consents, purpose="peer_support").count() == 1
    )
    assert again.given_method == "verbal_custody"


def test_withdrawing_twice_changes_nothing(service, person_with_consents):
    consent = person_with_consents.consents.first()
    first = consent_withdraw(consent=consent, method="online", recorded_by=person_with_consents)
    second = consent_withdraw(consent=consent, method="written", recorded_by=person_with_consents)
    assert second.withdrawn_at == first.withdrawn_at
    assert second.withdrawn_method == "online"


def test_staff_record_a_verbal_consent_in_custody(client, service):
    person = make_member(Role.SERVICE_USER, service)
    worker = make_member(Role.PEER_SUPPORT_WORKER, service)
    client.force_login(worker)
    response = client.post(
        f"/staff/people/{person.pk}/consents/",
        {"decision": "give", "purpose": "information_sharing", "method": "verbal_custody"},
    )
    assert response.status_code == 302
    consent = Consent.objects.get(subject=person)
    assert (consent.purpose, consent.given_method, consent.recorded_by) == (
        "information_sharing",
        "verbal_custody",
        worker,
    )
    assert consent.wording.version == 1


def test_staff_withdrawing_what_was_never_given_get_a_clear_message(client, service):
    person = make_member(Role.SERVICE_USER, service)
    client.force_login(make_member(Role.COORDINATOR, service))
    response = client.post(
        f"/staff/people/{person.pk}/consents/",
        {"decision": "withdraw", "purpose": "case_study", "method": "written"},
    )
    assert response.status_code == 400
    assert "There is no agreement for this to withdraw" in response.content.decode()
