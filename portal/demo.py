"""Fictional demo data for `make run`. Nothing here is, or resembles, a real person.

Phone numbers come from Ofcom's ranges kept for drama (0113 496 0xxx, 0161 496 0xxx,
07700 900xxx); email addresses use example.org, which can never receive mail.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Collection, Locale, Page, Site

# Demo data is the one place portal reaches into higher apps (content's pages, peer_support's
# people): only this module and the seed_demo command import them, never portal's models,
# services or views.
from content.demo import content_demo_seed
from content.models import HomePage
from notifications.services import reminders_plan_many
from peer_support.demo import peer_support_demo_seed
from peer_support.models import Appointment

from .models import (
    Consent,
    ConsentMethod,
    ConsentPurpose,
    Membership,
    Service,
    ServiceLocation,
    User,
)
from .roles import Role
from .services import consent_give, consent_wording_ensure

DEMO_PASSWORD = "demo-password-not-secret"  # noqa: S105 - demo only, refused without DEBUG
DEMO_SERVICE_USER_MOBILE = "+447700900001"

SERVICES = [
    {
        "slug": "northmoor",
        "name": "Northmoor Liaison and Diversion Service",
        "area": "Northmoor, Dalebridge and the Upper Dale villages (a fictional demo area)",
        "phone": "+441134960100",
        "hours": "Every day, 7am to 10pm",
        "postcode_districts": "NM1 NM2 NM3 DB1 DB2 UD1",
        "locations": [
            (ServiceLocation.Kind.CUSTODY_SUITE, "Northmoor Central custody suite", "Northmoor"),
            (ServiceLocation.Kind.CUSTODY_SUITE, "Dalebridge custody suite", "Dalebridge"),
            (ServiceLocation.Kind.MAGISTRATES_COURT, "Northmoor Magistrates' Court", "Northmoor"),
            (ServiceLocation.Kind.CROWN_COURT, "Northmoor Crown Court", "Northmoor"),
        ],
    },
    {
        "slug": "riverside-eastfield",
        "name": "Riverside and Eastfield Liaison and Diversion Service",
        "area": "Riverside, Eastfield and Kingsmere (a fictional demo area)",
        "phone": "+441614960200",
        "hours": "Monday to Friday, 8am to 8pm; weekends, 9am to 5pm",
        "postcode_districts": "RV1 RV2 EF1 EF2 KM1",
        "locations": [
            (ServiceLocation.Kind.CUSTODY_SUITE, "Riverside custody suite", "Riverside"),
            (ServiceLocation.Kind.MAGISTRATES_COURT, "Eastfield Magistrates' Court", "Eastfield"),
            (ServiceLocation.Kind.YOUTH_COURT, "Eastfield Youth Court", "Eastfield"),
        ],
    },
]


HOME_INTRO = (
    "If you have met a Liaison and Diversion team at a police station or a court, "
    "a peer supporter can help you get to your appointments and find the right help."
)
HOME_BODY = [
    (
        "paragraph",
        "<h2>What this site is for</h2>"
        "<p>Liaison and Diversion teams work in police custody and at criminal courts. "
        "They help people who may need support with their mental health, a learning "
        "disability, autism, or drug or alcohol use, and they refer them on to services.</p>"
        "<p>A peer supporter has been through the justice system themselves. They can "
        "help you get to your first appointments and keep going.</p>",
    ),
    (
        "inset_text",
        {
            "body": "<p>You do not need to sign in to read this site. "
            "You only sign in to see your own appointments.</p>"
        },
    ),
]


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    username: str
    email: str
    mobile: str
    password: str | None


def demo_accounts() -> list[DemoAccount]:
    accounts = []
    for role in Role:
        if role == Role.SERVICE_USER:
            accounts.append(
                DemoAccount(role, "demo-service-user", "", DEMO_SERVICE_USER_MOBILE, None)
            )
        else:
            slug = role.value.replace("_", "-")
            accounts.append(
                DemoAccount(role, f"demo-{slug}", f"{slug}@example.org", "", DEMO_PASSWORD)
            )
    return accounts


def _seed_services() -> list[Service]:
    services = []
    for spec in SERVICES:
        service = Service.objects.filter(slug=spec["slug"]).first() or Service(slug=spec["slug"])
        for field in ("name", "area", "phone", "hours", "postcode_districts"):
            setattr(service, field, spec[field])
        service.full_clean()
        service.save()
        wanted = set()
        for kind, name, town in spec["locations"]:
            location, _ = ServiceLocation.objects.update_or_create(
                service=service, kind=kind, name=name, defaults={"town": town}
            )
            wanted.add(location.pk)
        service.locations.exclude(pk__in=wanted).delete()
        services.append(service)
    return services


def demo_totp_secret(account: DemoAccount) -> str:
    """A fixed secret per demo account, so the printed one stays valid across runs."""
    digest = hashlib.sha256(f"demo-totp-{account.username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def _seed_accounts(service: Service) -> list[DemoAccount]:
    accounts = demo_accounts()
    for account in accounts:
        group, _ = Group.objects.get_or_create(name=account.role.label)
        user = User.objects.filter(username=account.username).first() or User(
            username=account.username
        )
        user.first_name = "Demo"
        user.last_name = account.role.label
        user.email = account.email
        user.mobile = account.mobile
        user.is_staff = account.role == Role.ADMINISTRATOR
        user.is_superuser = account.role == Role.ADMINISTRATOR
        if account.password is None:
            if not user.password or user.has_usable_password():
                user.set_unusable_password()
        elif not user.check_password(account.password):
            user.set_password(account.password)
        user.full_clean()
        user.save()
        user.groups.set([group])
        Membership.objects.get_or_create(user=user, service=service, role=account.role)
        if (
            account.password is not None
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            TOTP.activate(user, demo_totp_secret(account))
    return accounts


def _seed_consents(service: Service) -> None:
    consent_wording_ensure()
    person = User.objects.get(username="demo-service-user")
    worker = User.objects.get(username="demo-peer-support-worker")
    for purpose in (ConsentPurpose.PEER_SUPPORT, ConsentPurpose.SMS_REMINDERS):
        if not Consent.objects.filter(subject=person, service=service, purpose=purpose).exists():
            consent_give(
                subject=person,
                service=service,
                purpose=purpose,
                method=ConsentMethod.VERBAL_IN_CUSTODY,
                recorded_by=worker,
            )


def _wagtail_root() -> Page:
    """Wagtail's tree root, locale and collection root, as its migrations create them.

    They are re-created when missing (after `flush`, or in tests that empty the tables).
    """
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant("en-gb"))
    if not Collection.get_first_root_node():
        Collection.add_root(name="Root")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root", live=True))
    return root


def _seed_site() -> HomePage:
    root = _wagtail_root()
    home = HomePage.objects.first()
    if home is None:
        # Wagtail's first migration makes a placeholder "Welcome" page at /home/: replace it.
        for placeholder in root.get_children().filter(slug="home"):
            placeholder.specific.delete()
        home = HomePage(
            title="Peer support after contact with police or courts",
            slug="home",
            intro=HOME_INTRO,
            body=HOME_BODY,
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    # An existing home page is left as it is: editors may have changed it.
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={
            "hostname": "localhost",
            "port": 80,
            "root_page": home,
            "site_name": "Liaison and Diversion peer support",
        },
    )
    return home


@transaction.atomic
def demo_seed() -> tuple[list[Service], list[DemoAccount], HomePage]:
    """Create or bring up to date the demo site, services and accounts. Safe to run again."""
    services = _seed_services()
    accounts = _seed_accounts(services[0])
    _seed_consents(services[0])
    home = _seed_site()
    content_demo_seed(home=home)
    if settings.DEMO_PEER_SUPPORT:
        peer_support_demo_seed(services=services)
        # The demo appointments are written in bulk, past the signal: plan their reminders
        # (rows that exist already are left alone, so this is safe to run again).
        reminders_plan_many(
            appointment_ids=Appointment.objects.filter(
                status=Appointment.Status.SCHEDULED, starts_at__gt=timezone.now()
            ).values_list("pk", flat=True)
        )
    return services, accounts, home
