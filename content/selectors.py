"""Reads for the information site. Everything public is live and public (no view restriction)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from wagtail.models import Page

from portal.models import Service, ServiceLocation

from .models import (
    Audience,
    CaseStudyIndexPage,
    CaseStudyPage,
    EasyReadPage,
    GuidanceIndexPage,
    GuidancePage,
    Stage,
)

GUIDANCE_PER_PAGE = 20
SEARCH_PER_PAGE = 10
# An outward code (the first half of a postcode: "NM1", "EF12", "KM2A") or a whole postcode.
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*[0-9][A-Z]{2})?$")


# --- Guidance --------------------------------------------------------------------------------


def guidance_listing(*, index: GuidanceIndexPage, params) -> dict:
    """The guidance under ``index``, filtered by audience and stage, with easy-read flags."""
    audience = params.get("audience", "")
    stage = params.get("stage", "")
    pages = (
        GuidancePage.objects.child_of(index)
        .live()
        .public()
        .annotate(
            easy_read_slug=Subquery(
                EasyReadPage.objects.live()
                .public()
                .filter(path__startswith=OuterRef("path"), depth=OuterRef("depth") + 1)
                .values("slug")[:1]
            )
        )
        .order_by("title")
    )
    if audience in Audience.values:
        pages = pages.filter(audience=audience)
    else:
        audience = ""
    if stage in Stage.values:
        pages = pages.filter(stage=stage)
    else:
        stage = ""
    paginator = Paginator(pages, GUIDANCE_PER_PAGE)
    page_obj = paginator.get_page(params.get("page"))
    return {
        "guidance_pages": page_obj,
        "filter_prefix": urlencode({"audience": audience, "stage": stage}) + "&",
        "audience": audience,
        "stage": stage,
        "audiences": Audience.choices,
        "stages": Stage.choices,
    }


def guidance_without_easy_read() -> QuerySet[GuidancePage]:
    """Guidance pages (live or not) that have no live easy-read twin: for editors."""
    return (
        GuidancePage.objects.annotate(
            has_easy_read=Exists(
                EasyReadPage.objects.live().filter(
                    path__startswith=OuterRef("path"), depth=OuterRef("depth") + 1
                )
            )
        )
        .filter(has_easy_read=False)
        .order_by("title")
    )


def pages_due_for_review(*, today: datetime.date) -> list[Page]:
    """Guidance, easy-read and case study pages whose next review date has passed."""
    due: list[Page] = []
    for model in (GuidancePage, EasyReadPage, CaseStudyPage):
        due += list(model.objects.filter(next_review_due__lt=today).order_by("next_review_due"))
    return sorted(due, key=lambda page: page.next_review_due)


# --- Case studies ----------------------------------------------------------------------------


def case_studies_live(*, index: CaseStudyIndexPage) -> QuerySet[CaseStudyPage]:
    return CaseStudyPage.objects.child_of(index).live().public().order_by("-first_published_at")


def case_study_publication_problems(*, page: CaseStudyPage, today: datetime.date) -> list[str]:
    """Why this case study may not be published today; empty when it may."""
    problems = []
    consent = page.consent
    if consent is None:
        problems.append("Choose the publication consent for this story.")
    elif consent.withdrawn_on is not None:
        problems.append(f"{consent} was withdrawn. This story cannot be published.")
    elif consent.expires_on < today:
        problems.append(f"{consent} has expired. This story cannot be published.")
    elif consent.given_on > today:
        problems.append(f"{consent} starts on {consent.given_on:%-d %B %Y}.")
    checklist = {
        "anonymised": "Tick “anonymised”: the story must not identify anyone.",
        "no_real_names": "Tick “No real names” once you have checked.",
        "no_real_places": "Tick “No real places” once you have checked.",
        "no_offence_dates": "Tick “No dates of offences” once you have checked.",
    }
    problems += [message for name, message in checklist.items() if not getattr(page, name)]
    return problems


def case_studies_without_consent(*, today: datetime.date) -> QuerySet[CaseStudyPage]:
    """Live case studies whose consent is missing, withdrawn, expired or not yet given."""
    return CaseStudyPage.objects.live().filter(
        Q(consent__isnull=True)
        | Q(consent__withdrawn_on__isnull=False)
        | Q(consent__expires_on__lt=today)
        | Q(consent__given_on__gt=today)
    )


def case_studies_taken_down(*, today: datetime.date) -> QuerySet[CaseStudyPage]:
    """Case studies that are not live because their consent lapsed: for editors."""
    return (
        CaseStudyPage.objects.not_live()
        .filter(
            Q(consent__withdrawn_on__isnull=False) | Q(consent__expires_on__lt=today),
            last_published_at__isnull=False,
        )
        .select_related("consent")
        .order_by("title")
    )


# --- Service directory -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceMatch:
    service: Service
    reason: str


def _with_locations() -> QuerySet[Service]:
    return Service.objects.prefetch_related(
        Prefetch("locations", queryset=ServiceLocation.objects.order_by("kind", "name"))
    )


def services_matching(*, query: str) -> list[ServiceMatch]:
    """Services covering a town or postcode area. An empty query lists them all.

    There are a few dozen L&D services in England, so matching in Python over one prefetched
    query is cheaper and clearer than a query per rule.
    """
    query = " ".join(query.split())
    services = list(_with_locations())
    if not query:
        return [ServiceMatch(service, "") for service in services]
    wanted = query.upper()
    postcode = POSTCODE.match(wanted)
    matches = []
    for service in services:
        districts = set(service.postcode_districts.upper().replace(",", " ").split())
        towns = {location.town.upper() for location in service.locations.all()}
        if postcode and postcode.group(1) in districts:
            matches.append(ServiceMatch(service, f"covers postcode area {postcode.group(1)}"))
        elif wanted in towns:
            matches.append(ServiceMatch(service, f"covers {query.title()}"))
        elif len(wanted) >= 3 and (
            wanted in service.area.upper() or any(wanted in town for town in towns)
        ):
            matches.append(ServiceMatch(service, f"covers places matching “{query}”"))
    return matches


def service_by_slug(*, slug: str) -> Service | None:
    return _with_locations().filter(slug=slug).first()


# --- Search ----------------------------------------------------------------------------------


def search_public_pages(*, query: str, page_number: str | None):
    """Live, public guidance, easy-read and case study pages matching ``query``, paginated."""
    results = (
        Page.objects.live()
        .public()
        .type(GuidancePage, EasyReadPage, CaseStudyPage)
        .search(query, operator="and")
    )
    return Paginator(results, SEARCH_PER_PAGE).get_page(page_number)
