"""factory_boy factories. Everything fictional: drama-range numbers, example.org emails."""

import datetime as _dt

import factory
from django.utils import timezone

from peer_support.models import (
    Alert,
    Appointment,
    Contact,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from portal.models import Service, ServiceLocation, User


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Testshire Liaison and Diversion Service {n}")
    slug = factory.Sequence(lambda n: f"testshire-{n}")
    area = "Testshire (fictional)"
    phone = factory.Sequence(lambda n: f"+44113496{n % 1000:04d}")
    hours = "Every day, 8am to 8pm"


class ServiceLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLocation

    service = factory.SubFactory(ServiceFactory)
    kind = ServiceLocation.Kind.CUSTODY_SUITE
    name = factory.Sequence(lambda n: f"Testtown custody suite {n}")
    town = "Testtown"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    first_name = "Test"
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    mobile = ""
    password = factory.django.Password("test-password-123")


# --- Peer support ---------------------------------------------------------------------------

REQUIRED_TRAINING = ["safeguarding", "boundaries", "data_protection", "lived_experience_sharing"]


class ServiceUserRecordFactory(factory.django.DjangoModelFactory):
    """A referral; fictional name and a drama-range number."""

    class Meta:
        model = ServiceUserRecord

    service = factory.SubFactory(ServiceFactory)
    user = None
    preferred_name = "Sam"
    mobile = factory.Sequence(lambda n: f"+447700900{n % 1000:03d}")
    age_band = "25_plus"
    languages = factory.LazyFunction(lambda: ["en"])
    home_district = "NM1"
    needs = factory.LazyFunction(lambda: ["housing"])
    status = ServiceUserRecord.Status.AWAITING_MATCH


class SupporterFactory(factory.django.DjangoModelFactory):
    """A supporter who is ready today: DBS a month old, all training, supervised last week.
    Pass ``services=[...]`` to set their services (default: none)."""

    class Meta:
        model = Supporter
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    kind = Supporter.Kind.VOLUNTEER
    languages = factory.LazyFunction(lambda: ["en"])
    lived_experience = factory.LazyFunction(lambda: ["housing"])
    districts_covered = factory.LazyFunction(lambda: ["NM1"])
    capacity = 3
    dbs_checked_on = factory.LazyFunction(lambda: timezone.localdate() - _dt.timedelta(days=30))
    dbs_level = Supporter.DBSLevel.ENHANCED
    training_modules_completed = factory.LazyFunction(lambda: list(REQUIRED_TRAINING))
    last_supervision_on = factory.LazyFunction(
        lambda: timezone.localdate() - _dt.timedelta(days=7)
    )

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class MatchFactory(factory.django.DjangoModelFactory):
    """A match written directly (no rules): for selector tests only; services test the rules."""

    class Meta:
        model = Match

    service_user = factory.SubFactory(ServiceUserRecordFactory)
    supporter = factory.SubFactory(SupporterFactory)
    started_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(UserFactory)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    service_user = factory.SubFactory(ServiceUserRecordFactory)
    kind = Appointment.Kind.GP
    place_label = "Riverside Centre"
    address = "1 Example Street, Testtown NM1 1AA"
    starts_at = factory.LazyFunction(lambda: timezone.now() + _dt.timedelta(days=2))
    arranged_by = factory.SubFactory(UserFactory)


class OfferFactory(factory.django.DjangoModelFactory):
    """An offer written directly (no rules): for selector and page tests only."""

    class Meta:
        model = Offer

    service_user = factory.SubFactory(ServiceUserRecordFactory)
    supporter = factory.SubFactory(SupporterFactory)
    offered_at = factory.LazyFunction(timezone.now)
    respond_by = factory.LazyAttribute(lambda o: o.offered_at + _dt.timedelta(hours=48))
    explanation = "shares lived experience of housing; covers NM1; 3 of 3 places free"
    score = 0.5


class ContactFactory(factory.django.DjangoModelFactory):
    """A contact written directly (no sanitising): for selector and page tests only."""

    class Meta:
        model = Contact

    match = factory.SubFactory(MatchFactory)
    service_user = factory.LazyAttribute(lambda c: c.match.service_user)
    supporter = factory.LazyAttribute(lambda c: c.match.supporter)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - _dt.timedelta(hours=1))
    method = Contact.Method.PHONE
    duration_minutes = 20
    summary = "Talked through the first appointment."
    created_by = factory.LazyAttribute(lambda c: c.match.supporter.user)


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    service = factory.SubFactory(ServiceFactory)
    kind = Alert.Kind.NEW_REFERRAL
    message = "A new request for a peer supporter came in through the website."
