import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import transaction
from wagtail.models import Page

from content.models import CaseStudyPage, GuidanceIndexPage, GuidancePage, HomePage
from portal.demo import demo_seed
from portal.roles import Role
from tests.factories import UserFactory


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """Seed the demo site once per test module, inside a transaction rolled back at the end.

    Each test still runs in its own savepoint (pytest-django's ``db``), so what one test
    changes is undone before the next.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        demo_seed()
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Rolled-back data must not come back from a cache a previous test filled."""
    for alias in ("default", "pages"):
        caches[alias].clear()


@pytest.fixture
def site(_seeded_once, db) -> HomePage:
    """The demo site: home, 8 guidance pages with easy-read twins, 3 stories, directory."""
    return HomePage.objects.get()


@pytest.fixture
def guidance_index(site) -> GuidanceIndexPage:
    return GuidanceIndexPage.objects.get()


@pytest.fixture
def court_page(site) -> GuidancePage:
    return GuidancePage.objects.get(slug="going-to-court")


@pytest.fixture
def story(site) -> CaseStudyPage:
    return CaseStudyPage.objects.get(slug="sams-story")


def _member(role: Role, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role.label))
    return user


@pytest.fixture
def editor(site):
    return _member(Role.CONTENT_EDITOR)


@pytest.fixture
def reviewer(site):
    return _member(Role.CONTENT_REVIEWER)


@pytest.fixture
def second_reviewer(site):
    return _member(Role.CONTENT_REVIEWER)


def live_titles() -> set[str]:
    return set(Page.objects.live().values_list("title", flat=True))
