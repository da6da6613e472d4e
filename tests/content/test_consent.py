"""Case studies come down by themselves when consent expires or is withdrawn."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from content.models import CaseStudyPage
from portal.schedules import schedules_sync

pytestmark = pytest.mark.django_db

SCHEDULE = "Unpublish case studies without consent"


def _run_due_schedules() -> None:
    """What the qcluster's scheduler does each tick (tasks run at once: Q_CLUSTER sync)."""
    scheduler()


def test_expired_consent_unpublishes_the_case_study_through_the_scheduled_task(
    client, story, editor
):
    schedules_sync()
    schedule = Schedule.objects.get(name=SCHEDULE)
    assert schedule.func == "content.tasks.case_studies_consent_sweep"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 15
    assert client.get("/stories/sams-story/").status_code == 200
    expiry = timezone.localdate() + datetime.timedelta(days=30)  # before the other stories'
    story.consent.expires_on = expiry
    story.consent.save()

    # The day consent ends it is still valid: nothing comes down.
    with time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(expiry, datetime.time(12)))
    ):
        Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now())
        _run_due_schedules()
    story.refresh_from_db()
    assert story.live

    # Within one run of the schedule after it ends, it is down and editors are told.
    after = timezone.make_aware(datetime.datetime.combine(expiry, datetime.time(0, 10)))
    after += datetime.timedelta(days=1)
    with time_machine.travel(after):
        _run_due_schedules()
    story.refresh_from_db()
    assert not story.live
    assert CaseStudyPage.objects.live().count() == 2
    assert client.get("/stories/sams-story/").status_code == 404
    assert "Sam's story" not in client.get("/stories/").content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert editor.email in message.to
    assert "Sam's story: getting to the first appointment" in message.body


def test_withdrawn_consent_comes_down_when_the_withdrawal_is_saved(
    client, story, editor, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    consent = story.consent
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/snippets/content/publicationconsent/edit/{consent.pk}/",
            {
                "reference": consent.reference,
                "scope": consent.scope,
                "given_on": consent.given_on.isoformat(),
                "expires_on": consent.expires_on.isoformat(),
                "withdrawn_on": timezone.localdate().isoformat(),
            },
        )
    assert response.status_code == 302
    story.refresh_from_db()
    assert not story.live
    assert [m.subject for m in mail.outbox] == ["Case studies taken down: consent ended"]
    client.logout()
    assert client.get("/stories/sams-story/").status_code == 404


def test_sweep_leaves_stories_with_valid_consent_alone(story):
    from content.services import case_studies_consent_sweep

    assert case_studies_consent_sweep() == []
    assert CaseStudyPage.objects.live().count() == 3
    assert mail.outbox == []


def test_editors_see_stories_taken_down_on_their_dashboard(client, story, editor):
    from content.services import case_studies_consent_sweep

    story.consent.withdrawn_on = timezone.localdate()
    story.consent.save()
    assert case_studies_consent_sweep() == [story.pk]
    client.force_login(editor)
    html = client.get("/admin/").content.decode()
    section = html.split("Case studies taken down because consent ended")[1]
    assert "Sam&#x27;s story" in section.split("</ul>")[0]
