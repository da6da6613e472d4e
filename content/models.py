"""Wagtail pages for the public information site, and the records behind them.

Page models stay small: reads live in ``selectors.py``, writes in ``services.py``.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import AbstractGroupApprovalTask, Page
from wagtail.search import index

from .blocks import BodyBlock, EasyReadBodyBlock
from .panels import ReadingAgePanel

# --- Caching ---------------------------------------------------------------------------------


class CachedPageMixin:
    """Marks a page's live response as fit for the anonymous page cache (content/cache.py).

    Only ``serve`` marks it, never ``serve_preview``; the cache middleware still refuses
    anything sent to a signed-in reader or carrying a cookie.
    """

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        response.page_cacheable = True
        return response


# --- Review dates ----------------------------------------------------------------------------


class ReviewDatesMixin(models.Model):
    last_reviewed = models.DateField(
        "last reviewed", default=datetime.date.today, help_text="Shown on the page."
    )
    next_review_due = models.DateField(
        "next review due",
        help_text="Shown on the page. Editors see pages past this date on their dashboard.",
    )

    review_panels = [
        FieldRowPanel([FieldPanel("last_reviewed"), FieldPanel("next_review_due")]),
    ]

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if (
            self.last_reviewed
            and self.next_review_due
            and self.next_review_due <= self.last_reviewed
        ):
            raise ValidationError(
                {"next_review_due": "The next review must be after the last review."}
            )


# --- Home ------------------------------------------------------------------------------------


class HomePage(CachedPageMixin, Page):
    """The front door: what the portal is and where to go next."""

    intro = models.TextField(
        blank=True, help_text="One or two plain sentences under the page heading."
    )
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "content.GuidanceIndexPage",
        "content.CaseStudyIndexPage",
        "content.ServiceDirectoryPage",
    ]
    max_count = 1


# --- Guidance and its easy-read twin ---------------------------------------------------------


class Audience(models.TextChoices):
    ADULTS = "adults", "Adults"
    YOUNG_PEOPLE = "young_people", "Young people"
    FAMILY = "family", "Family and friends"
    PROFESSIONALS = "professionals", "Professionals"


class Stage(models.TextChoices):
    CUSTODY = "custody", "At the police station"
    COURT = "court", "At court"
    AFTER = "after", "Afterwards"


EASY_READ_TARGET = 9
STANDARD_TARGET = 11


class GuidanceIndexPage(CachedPageMixin, Page):
    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["content.HomePage"]
    subpage_types = ["content.GuidancePage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from .selectors import guidance_listing

        context = super().get_context(request, *args, **kwargs)
        context.update(guidance_listing(index=self, params=request.GET))
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        # Filtered and paged views are not cached: only the plain listing is.
        response.page_cacheable = not request.GET
        return response


class GuidancePage(CachedPageMixin, ReviewDatesMixin, Page):  # noqa: DJ008 - Page's __str__
    reading_age_target = STANDARD_TARGET

    intro = models.TextField(help_text="One or two plain sentences under the page heading.")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    stage = models.CharField(max_length=20, choices=Stage.choices)
    body = StreamField(BodyBlock())

    content_panels = Page.content_panels + [
        ReadingAgePanel(),
        FieldPanel("intro"),
        FieldRowPanel([FieldPanel("audience"), FieldPanel("stage")]),
        FieldPanel("body"),
        MultiFieldPanel(ReviewDatesMixin.review_panels, heading="Review"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
        index.FilterField("audience"),
        index.FilterField("stage"),
    ]
    parent_page_types = ["content.GuidanceIndexPage"]
    subpage_types = ["content.EasyReadPage"]

    @cached_property
    def easy_read_twin(self) -> EasyReadPage | None:
        return EasyReadPage.objects.child_of(self).live().public().first()


class EasyReadPage(CachedPageMixin, ReviewDatesMixin, Page):  # noqa: DJ008 - Page's __str__
    """The easy-read twin of the guidance page it sits under."""

    reading_age_target = EASY_READ_TARGET

    intro = models.TextField(
        blank=True, max_length=200, help_text="One short sentence. You can leave it out."
    )
    body = StreamField(EasyReadBodyBlock())

    content_panels = Page.content_panels + [
        HelpPanel(
            content="<p>Easy read: one idea in each point, short sentences, everyday words, "
            "and a picture beside each point.</p>"
        ),
        ReadingAgePanel(),
        FieldPanel("intro"),
        FieldPanel("body"),
        MultiFieldPanel(ReviewDatesMixin.review_panels, heading="Review"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["content.GuidancePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = "easy read page"

    @cached_property
    def standard_version(self) -> Page:
        return self.get_parent()


# --- Case studies ----------------------------------------------------------------------------


class PublicationConsent(models.Model):
    """Consent, from the person a case study is about, to publish it.

    Content-side until the accounts issue's consent model arrives. It holds no name or contact
    details: only the reference written on the signed form, which is kept by the L&D service.
    """

    class Scope(models.TextChoices):
        WEBSITE = "website", "This website only"
        WEBSITE_AND_TRAINING = "website_training", "This website and staff training"

    reference = models.CharField(
        max_length=50,
        unique=True,
        help_text="The reference on the signed consent form. Never a name.",
    )
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.WEBSITE)
    given_on = models.DateField()
    expires_on = models.DateField(help_text="The case study comes down after this day.")
    withdrawn_on = models.DateField(
        null=True,
        blank=True,
        help_text="Fill this in when the person withdraws consent. The case study comes down "
        "within 15 minutes.",
    )

    panels = [
        FieldPanel("reference"),
        FieldPanel("scope"),
        FieldRowPanel([FieldPanel("given_on"), FieldPanel("expires_on")]),
        FieldPanel("withdrawn_on"),
    ]

    class Meta:
        ordering = ["reference"]
        verbose_name = "publication consent"

    def __str__(self) -> str:
        return f"Consent {self.reference}"

    def clean(self):
        if self.given_on and self.expires_on and self.expires_on < self.given_on:
            raise ValidationError({"expires_on": "Consent cannot end before it was given."})

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.withdrawn_on is None and self.given_on <= day <= self.expires_on


class CaseStudyPublishForm(WagtailAdminPageForm):
    """Refuses to submit or publish a case study that is not anonymised or lacks consent."""

    def clean(self):
        cleaned = super().clean()
        if "action-publish" in self.data or "action-submit" in self.data:
            from .selectors import case_study_publication_problems

            candidate = self.instance
            for name in (
                "consent",
                "anonymised",
                "no_real_names",
                "no_real_places",
                "no_offence_dates",
            ):
                if name in cleaned:
                    setattr(candidate, name, cleaned[name])
            for problem in case_study_publication_problems(
                page=candidate, today=timezone.localdate()
            ):
                self.add_error(None, problem)
        return cleaned


class CaseStudyIndexPage(CachedPageMixin, Page):
    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["content.HomePage"]
    subpage_types = ["content.CaseStudyPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from .selectors import case_studies_live

        context = super().get_context(request, *args, **kwargs)
        context["case_studies"] = case_studies_live(index=self)
        return context


class CaseStudyPage(CachedPageMixin, ReviewDatesMixin, Page):  # noqa: DJ008 - Page's __str__
    reading_age_target = STANDARD_TARGET

    summary = models.TextField(help_text="One or two sentences for the list of stories.")
    body = StreamField(BodyBlock())
    consent = models.ForeignKey(
        PublicationConsent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_studies",
        help_text="The story cannot be published without valid consent. It comes down "
        "by itself when consent ends or is withdrawn.",
    )
    anonymised = models.BooleanField(
        default=False, help_text="The story cannot identify the person it is about."
    )
    no_real_names = models.BooleanField(
        "No real names", default=False, help_text="Names are changed or left out."
    )
    no_real_places = models.BooleanField(
        "No real places", default=False, help_text="No towns, streets, stations or courts."
    )
    no_offence_dates = models.BooleanField(
        "No dates of offences", default=False, help_text="No dates, days or times of offences."
    )

    base_form_class = CaseStudyPublishForm
    content_panels = Page.content_panels + [
        ReadingAgePanel(),
        FieldPanel("summary"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("consent"),
                FieldPanel("anonymised"),
                FieldPanel("no_real_names"),
                FieldPanel("no_real_places"),
                FieldPanel("no_offence_dates"),
            ],
            heading="Consent and anonymity (all needed before publishing)",
        ),
        MultiFieldPanel(ReviewDatesMixin.review_panels, heading="Review"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
    ]
    parent_page_types = ["content.CaseStudyIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "case study"


# --- Service directory -----------------------------------------------------------------------


class ServiceDirectoryPage(CachedPageMixin, RoutablePageMixin, Page):
    """Lists L&D services (portal.Service) and gives each its own page under this one."""

    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["content.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    @path("")
    def directory(self, request):
        from .forms import ServiceSearchForm
        from .selectors import services_matching

        form = ServiceSearchForm(request.GET or None)
        services, query = None, ""
        if form.is_valid():
            query = form.cleaned_data["q"]
            services = services_matching(query=query)
        response = self.render(
            request,
            context_overrides={
                "form": form,
                "services": services,
                "query": query,
                "all_services": None if request.GET else services_matching(query=""),
            },
        )
        response.page_cacheable = not request.GET
        return response

    @path("<slug:slug>/")
    def service(self, request, slug):
        from .selectors import service_by_slug

        service = service_by_slug(slug=slug)
        if service is None:
            raise Http404("No such service")
        response = TemplateResponse(
            request,
            "content/service_page.html",
            {"page": self, "service": service, "self": self},
        )
        response.page_cacheable = True
        return response

    def serve(self, request, *args, **kwargs):
        # RoutablePageMixin's own serve; each route decides whether it is cacheable.
        return RoutablePageMixin.serve(self, request, *args, **kwargs)


# --- Workflow --------------------------------------------------------------------------------


class SafeguardingReviewTask(AbstractGroupApprovalTask):
    """A group approval that nobody may give to their own work.

    Wagtail lets any member of the task's groups approve; here the person who submitted the
    page, and the author of the revision under review, see no approve or reject actions and
    are refused if they try anyway.
    """

    class Meta:
        verbose_name = "safeguarding review"
        verbose_name_plural = "safeguarding reviews"

    @staticmethod
    def _own_submission(obj, user) -> bool:
        state = getattr(obj, "current_workflow_state", None)
        if state is None or user is None or not user.is_authenticated:
            return False
        if state.requested_by_id == user.pk:
            return True
        task_state = state.current_task_state
        return bool(task_state and task_state.revision and task_state.revision.user_id == user.pk)

    def get_actions(self, obj, user):
        if self._own_submission(obj, user):
            return []
        return super().get_actions(obj, user)

    def user_can_access_editor(self, obj, user):
        return not self._own_submission(obj, user) and super().user_can_access_editor(obj, user)

    def locked_for_user(self, obj, user):
        return self._own_submission(obj, user) or super().locked_for_user(obj, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name in {"approve", "reject"} and self._own_submission(
            task_state.workflow_state.content_object, user
        ):
            raise PermissionDenied("Nobody can review their own submission.")
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = super().get_task_states_user_can_moderate(user, **kwargs)
        return states.exclude(workflow_state__requested_by=user).exclude(revision__user=user)

    @classmethod
    def get_description(cls):
        return "Members of the chosen groups approve, except for their own submissions."
