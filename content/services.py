"""Writes for the information site: editorial set-up and consent-driven unpublishing."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from portal.roles import Role

from .models import CaseStudyPage, SafeguardingReviewTask
from .selectors import case_studies_without_consent

logger = logging.getLogger(__name__)

WORKFLOW_NAME = "Lived-experience editor → safeguarding reviewer"
REVIEW_TASK_NAME = "Safeguarding review"

# What each group may do in Wagtail. Editors draft and submit; nobody in either group can
# publish directly: pages go live only when a reviewer approves the workflow task.
EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page")
EDITOR_MODEL_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("content", "add_publicationconsent"),
    ("content", "change_publicationconsent"),
    ("content", "view_publicationconsent"),
)
REVIEWER_MODEL_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("content", "change_publicationconsent"),
    ("content", "view_publicationconsent"),
)
EDITOR_IMAGE_PERMISSIONS = ("add_image", "choose_image")


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def editorial_groups_setup(*, home: Page) -> Workflow:
    """Give the editor and reviewer groups their Wagtail permissions, and put every page
    under ``home`` into the safeguarding review workflow. Safe to run again."""
    editors, _ = Group.objects.get_or_create(name=Role.CONTENT_EDITOR.label)
    reviewers, _ = Group.objects.get_or_create(name=Role.CONTENT_REVIEWER.label)

    for codename in EDITOR_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=editors, page=home, permission=_permission("wagtailcore", codename)
        )
    editors.permissions.add(*(_permission(*pair) for pair in EDITOR_MODEL_PERMISSIONS))
    reviewers.permissions.add(*(_permission(*pair) for pair in REVIEWER_MODEL_PERMISSIONS))
    root_collection = Collection.get_first_root_node()
    for codename in EDITOR_IMAGE_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=editors,
            collection=root_collection,
            permission=_permission("wagtailimages", codename),
        )

    task = SafeguardingReviewTask.objects.filter(name=REVIEW_TASK_NAME).first()
    if task is None:
        task = SafeguardingReviewTask(name=REVIEW_TASK_NAME)
        task.full_clean()
        task.save()
    task.groups.set([reviewers])
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=home, defaults={"workflow": workflow})
    return workflow


def _editor_emails() -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True,
        groups__name__in=[Role.CONTENT_EDITOR.label, Role.CONTENT_REVIEWER.label],
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def _tell_editors(titles: list[str]) -> None:
    recipients = _editor_emails()
    if not titles or not recipients:
        return
    body = (
        "These case studies have been taken off the website because their publication "
        "consent has ended or been withdrawn:\n\n"
        + "\n".join(f"- {title}" for title in titles)
        + "\n\nThey stay as drafts. They can go back up only with new consent, through review."
    )
    message = (
        "Case studies taken down: consent ended",
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    try:
        send_mass_mail([message], fail_silently=False)
    except Exception:  # the take-down stands even if mail is down; the dashboard shows it too
        logger.exception("Could not email editors about %d case studies taken down", len(titles))


@transaction.atomic
def case_study_unpublish_without_consent(*, page: CaseStudyPage) -> None:
    page.unpublish(user=None, log_action=True)
    logger.info("Case study %s unpublished: its publication consent has lapsed", page.pk)


def case_studies_consent_sweep(*, today: datetime.date | None = None) -> list[int]:
    """Unpublish every live case study without valid consent today; tell the editors.

    Returns the ids unpublished. Each page is its own transaction, so one failure does not
    keep the others up.
    """
    today = today or timezone.localdate()
    done: list[CaseStudyPage] = []
    for page in case_studies_without_consent(today=today).select_related("consent"):
        case_study_unpublish_without_consent(page=page)
        done.append(page)
    _tell_editors([page.title for page in done])
    return [page.pk for page in done]
