"""seed_demo: idempotent, fictional, and refused outside development."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from wagtail.images import get_image_model
from wagtail.images.models import Rendition
from wagtail.models import GroupPagePermission, Page, Revision, Site, Workflow, WorkflowPage

from content.models import (
    CaseStudyPage,
    EasyReadPage,
    GuidancePage,
    HomePage,
    PublicationConsent,
    ServiceDirectoryPage,
)
from peer_support.demo import FIRST_NAMES
from portal.models import AuditEvent, Consent, Membership, Service, ServiceLocation, User
from portal.phone import is_fictional_mobile
from portal.roles import Role

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "users": sorted(
            User.objects.values_list(
                "username", "email", "mobile", "is_staff", "is_superuser", "password"
            )
        ),
        "groups": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        "services": sorted(Service.objects.values_list("slug", "name", "area", "phone", "hours")),
        "locations": sorted(
            ServiceLocation.objects.values_list("service__slug", "kind", "name", "town")
        ),
        "pages": sorted(Page.objects.values_list("path", "slug", "title", "live")),
        "revisions": Revision.objects.count(),
        "sites": sorted(Site.objects.values_list("hostname", "port", "root_page_id")),
        "memberships": sorted(
            Membership.objects.values_list("user__username", "service__slug", "role")
        ),
        "consents": sorted(
            Consent.objects.values_list("subject__username", "purpose", "withdrawn_at")
        ),
        "authenticators": sorted(
            Authenticator.objects.values_list("user__username", "type", "data")
        ),
        "audit_events": AuditEvent.objects.count(),
        "publication_consents": sorted(
            PublicationConsent.objects.values_list("reference", "given_on", "expires_on")
        ),
        "images": sorted(get_image_model().objects.values_list("title", "file")),
        "renditions": Rendition.objects.count(),
        "workflows": sorted(Workflow.objects.values_list("name", flat=True)),
        "workflow_pages": sorted(WorkflowPage.objects.values_list("page_id", "workflow_id")),
        "page_permissions": sorted(
            GroupPagePermission.objects.values_list("group__name", "page_id", "permission_id")
        ),
        "postcode_districts": sorted(Service.objects.values_list("slug", "postcode_districts")),
    }


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_twice_leaves_the_same_data(settings, capsys):
    settings.DEMO_PEER_SUPPORT = True
    settings.DEBUG = True
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    out = capsys.readouterr().out
    assert "Demo sign-ins" in out
    assert re.search(r"Peer support: [1-9]\d+ supporters, [1-9]\d{2} records", out), out


def test_seed_demo_creates_site_services_and_one_account_per_role(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    home = HomePage.objects.get()
    assert home.live
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    assert Service.objects.count() == 2
    for role in Role:
        group = Group.objects.get(name=role.label)
        assert group.user_set.count() == 1, role
    # Wagtail's placeholder welcome page has been replaced, not left beside ours.
    assert Page.objects.filter(depth=2).count() == 1


def test_seed_demo_creates_the_information_site(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    guidance = GuidancePage.objects.live()
    assert guidance.count() >= 8
    for page in guidance:
        assert EasyReadPage.objects.child_of(page).live().count() == 1, page.title
    stories = CaseStudyPage.objects.live()
    assert stories.count() == 3
    for story in stories:
        assert story.consent is not None
        assert story.anonymised and story.no_real_names
        assert story.no_real_places and story.no_offence_dates
    assert ServiceDirectoryPage.objects.live().count() == 1
    assert all(service.postcode_districts for service in Service.objects.all())


def test_seed_demo_contains_nothing_that_could_be_a_real_person(settings):
    settings.DEMO_PEER_SUPPORT = True
    settings.DEBUG = True
    call_command("seed_demo")
    for user in User.objects.all():
        # Demo accounts are "Demo ..."; the fictional peer support people take a first name
        # from peer_support.demo's own short list of common names.
        assert user.first_name == "Demo" or user.first_name in FIRST_NAMES
        assert not user.email or user.email.endswith("@example.org")
        assert not user.mobile or is_fictional_mobile(user.mobile)
    for service in Service.objects.all():
        # Ofcom's drama ranges for Leeds and Manchester numbers.
        assert service.phone.as_e164[:10] in {"+441134960", "+441614960"}
        assert "fictional" in service.area


def test_seed_demo_staff_can_sign_in_with_the_printed_authenticator_key(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    out = capsys.readouterr().out
    volunteer = User.objects.get(username="demo-peer-volunteer")
    key = re.search(r"peer-volunteer@example.org .* authenticator key (\w+)", out).group(1)
    stored = Authenticator.objects.get(user=volunteer, type="totp").wrap()
    assert stored.validate_code(format_hotp_value(hotp_value(key, int(time.time()) // 30)))
