"""The safeguarding review: editors submit, another reviewer approves, nobody approves their own."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from wagtail.models import Page, Workflow, WorkflowState

from content.models import CaseStudyPage, GuidancePage, SafeguardingReviewTask
from content.services import WORKFLOW_NAME, editorial_groups_setup

pytestmark = pytest.mark.django_db


def _draft_change(page: Page, user, title: str):
    page.title = title
    return page.save_revision(user=user)


def _submit(page: Page, user) -> WorkflowState:
    _draft_change(page, user, page.title + " (changed)")
    return Workflow.objects.get(name=WORKFLOW_NAME).start(page, user)


def test_guidance_pages_are_in_the_safeguarding_workflow(court_page):
    workflow = court_page.get_workflow()
    assert workflow.name == WORKFLOW_NAME
    task = workflow.tasks.get().specific
    assert isinstance(task, SafeguardingReviewTask)
    assert list(task.groups.values_list("name", flat=True)) == ["Content reviewer"]


def test_editor_can_edit_and_submit_but_not_publish(client, court_page, guidance_index, editor):
    assert guidance_index.permissions_for_user(editor).can_add_subpage()
    permissions = court_page.permissions_for_user(editor)
    assert permissions.can_edit()
    assert permissions.can_submit_for_moderation()
    assert not permissions.can_publish()
    assert not permissions.can_unpublish()

    client.force_login(editor)
    response = client.post(
        f"/admin/pages/{court_page.pk}/edit/",
        {**_edit_form(court_page), "title": "Going to court (edited)", "action-publish": "1"},
    )
    assert response.status_code in (200, 302, 403)
    court_page.refresh_from_db()
    assert court_page.title == "Going to court"  # the live page did not change


def _edit_form(page: GuidancePage) -> dict:
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    return nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "intro": page.intro,
            "audience": page.audience,
            "stage": page.stage,
            "last_reviewed": page.last_reviewed.isoformat(),
            "next_review_due": page.next_review_due.isoformat(),
            "body": streamfield([("paragraph", rich_text("<p>Plain words.</p>"))]),
        }
    )


def test_editor_submits_through_the_admin_and_reviewer_approves(
    client, court_page, editor, reviewer
):
    client.force_login(editor)
    response = client.post(
        f"/admin/pages/{court_page.pk}/edit/",
        {**_edit_form(court_page), "title": "Going to court (checked)", "action-submit": "1"},
    )
    assert response.status_code == 302
    court_page.refresh_from_db()
    assert court_page.workflow_in_progress
    assert court_page.title == "Going to court"

    task = court_page.current_workflow_task
    assert task.get_actions(court_page, editor) == []
    assert [name for name, *_ in task.get_actions(court_page, reviewer)] == [
        "reject",
        "approve",
        "approve",
    ]
    task.on_action(court_page.current_workflow_task_state, reviewer, "approve")

    court_page.refresh_from_db()
    assert court_page.live
    assert court_page.title == "Going to court (checked)"
    assert not court_page.workflow_in_progress


def test_reviewer_rejects_with_a_comment(court_page, editor, reviewer):
    state = _submit(court_page, editor)
    task_state = state.current_task_state
    task_state.task.specific.on_action(
        task_state, reviewer, "reject", comment="Please explain 'remand' in plain words."
    )
    task_state.refresh_from_db()
    state.refresh_from_db()
    assert task_state.status == "rejected"
    assert task_state.comment == "Please explain 'remand' in plain words."
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    court_page.refresh_from_db()
    assert court_page.title == "Going to court"


def test_nobody_approves_their_own_submission(court_page, reviewer, second_reviewer):
    state = _submit(court_page, reviewer)
    task_state = state.current_task_state
    task = task_state.task.specific
    page = Page.objects.get(pk=court_page.pk).specific

    assert task.get_actions(page, reviewer) == []
    assert task.locked_for_user(page, reviewer)
    assert not task.get_task_states_user_can_moderate(reviewer).exists()
    with pytest.raises(PermissionDenied):
        task.on_action(task_state, reviewer, "approve")
    page.refresh_from_db()
    assert page.title == "Going to court"

    # Someone else in the group can.
    assert task.get_task_states_user_can_moderate(second_reviewer).exists()
    task.on_action(task_state, second_reviewer, "approve")
    page.refresh_from_db()
    assert page.title == "Going to court (changed)"


def test_self_approval_through_the_admin_is_refused(client, court_page, reviewer):
    state = _submit(court_page, reviewer)
    client.force_login(reviewer)
    response = client.post(
        f"/admin/pages/workflow/action/{court_page.pk}/approve/{state.current_task_state.pk}/",
        {"comment": ""},
    )
    assert response.status_code in (302, 403)
    court_page.refresh_from_db()
    assert court_page.title == "Going to court"
    assert court_page.workflow_in_progress


def test_case_study_cannot_be_submitted_until_the_checklist_is_ticked(client, story, editor):
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    client.force_login(editor)
    data = nested_form_data(
        {
            "title": story.title,
            "slug": story.slug,
            "summary": story.summary,
            "consent": story.consent_id,
            "anonymised": "on",
            "no_real_names": "on",
            # no_real_places and no_offence_dates left unticked
            "last_reviewed": story.last_reviewed.isoformat(),
            "next_review_due": story.next_review_due.isoformat(),
            "body": streamfield([("paragraph", rich_text("<p>A story.</p>"))]),
            "action-submit": "1",
        }
    )
    response = client.post(f"/admin/pages/{story.pk}/edit/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No real places" in html and "No dates of offences" in html
    story.refresh_from_db()
    assert not story.workflow_in_progress


def test_approval_refuses_a_case_study_whose_consent_has_lapsed(story, editor, reviewer):
    state = _submit(story, editor)
    story.consent.withdrawn_on = datetime.date.today()
    story.consent.save()
    task_state = state.current_task_state
    with pytest.raises(PermissionDenied, match="withdrawn"):
        task_state.task.specific.on_action(task_state, reviewer, "approve")


def test_editorial_set_up_is_idempotent(site):
    from wagtail.models import GroupPagePermission, WorkflowPage, WorkflowTask

    def counts():
        return (
            GroupPagePermission.objects.count(),
            Workflow.objects.count(),
            WorkflowTask.objects.count(),
            WorkflowPage.objects.count(),
            SafeguardingReviewTask.objects.count(),
        )

    before = counts()
    editorial_groups_setup(home=site)
    assert counts() == before


def test_dashboard_lists_pages_past_review_and_guidance_without_easy_read(
    client, court_page, editor
):
    from content.models import EasyReadPage

    EasyReadPage.objects.child_of(court_page).get().unpublish()
    with time_machine.travel(court_page.next_review_due + datetime.timedelta(days=1)):
        client.force_login(editor)
        response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Past their review date (19)" in html  # 8 guidance, 8 easy read, 3 stories
    section = html.split("Guidance without an easy read version")[1].split("</ul>")[0]
    assert "Going to court" in section
    assert "Your rights" not in section


def test_case_study_without_checklist_is_a_problem(story):
    from content.selectors import case_study_publication_problems

    story.no_offence_dates = False
    problems = case_study_publication_problems(page=story, today=datetime.date.today())
    assert problems == ["Tick “No dates of offences” once you have checked."]


@pytest.mark.parametrize(
    ("given", "expires", "withdrawn", "fragment"),
    [
        (-10, 10, None, None),
        (-10, -1, None, "has expired"),
        (-10, 10, 0, "was withdrawn"),
        (5, 10, None, "starts on"),
    ],
)
def test_consent_states(story, given, expires, withdrawn, fragment):
    from content.selectors import case_study_publication_problems

    today = datetime.date(2026, 6, 1)
    consent = story.consent
    consent.given_on = today + datetime.timedelta(days=given)
    consent.expires_on = today + datetime.timedelta(days=expires)
    consent.withdrawn_on = None if withdrawn is None else today
    problems = case_study_publication_problems(page=story, today=today)
    if fragment is None:
        assert problems == []
    else:
        assert len(problems) == 1 and fragment in problems[0]


def test_guidance_page_model_is_in_place(court_page):
    assert isinstance(court_page, GuidancePage)
    assert CaseStudyPage.objects.live().count() == 3
