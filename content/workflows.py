"""What happens when the safeguarding review approves a page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone


def publish_approved_revision(workflow_state, user=None) -> None:
    """Publish the revision the reviewer approved (settings.WAGTAIL_FINISH_WORKFLOW_ACTION).

    Approval is the permission: reviewers hold no direct publish permission, so nobody can
    put a page live without someone else's review. A case study is checked once more for
    consent and anonymity, in case either changed while it waited.
    """
    from .models import CaseStudyPage
    from .selectors import case_study_publication_problems

    task_state = workflow_state.current_task_state
    revision = (task_state.revision if task_state else None) or (
        workflow_state.content_object.get_latest_revision()
    )
    candidate = revision.as_object()
    if isinstance(candidate, CaseStudyPage):
        problems = case_study_publication_problems(page=candidate, today=timezone.localdate())
        if problems:
            raise PermissionDenied(" ".join(problems))
    revision.publish(user=user, skip_permission_checks=True)
