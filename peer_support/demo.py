"""Fictional peer support data for the demo (``python manage.py seed_demo``), so every peer
support page has something to show in both demo services.

Nobody here is, or resembles, a real person: first names come from a list of common neutral
names, phone numbers from Ofcom's drama range (07700 900000 to 07700 900999) and email
addresses from example.org. ``User.mobile`` is unique and that range holds only 1,000
numbers, which developers and tests also use for accounts they make after seeding; so only
supporters' accounts get a number (a small block, skipping any already taken). The people
referred keep their number on their record, where numbers may repeat (a shared phone), and
their demo accounts have none: only the demo service user signs in.

The safety rules are never bypassed: matches and offers are made through the services
(``match_create``, ``offer_make``, ``offer_accept``), which check consent, readiness, capacity,
language, gender preference, under-18 clearance and exclusions, with the batch matcher choosing
the pairs as it would for a coordinator. Contacts, appointments, outcomes, closures and the
readiness sweep also go through their services, so the audit log and the alerts look as they
would after real use. Only the volume rows (accounts, memberships, consents, records,
supporters) are validated in a loop and bulk-inserted, with one audit event each, to keep
``seed_demo`` quick. Dates are moved into the past afterwards so the pages show history.

Idempotent: when the demo volunteer already has a supporter profile, nothing is created and
only the counts are returned. A seeded ``random.Random`` makes every run the same.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from portal.models import (
    AuditEvent,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    ConsentWording,
    Membership,
    Service,
    User,
)
from portal.roles import Role
from portal.services import consent_wording_ensure

from . import matching, services
from .models import (
    ACCESSIBILITY_CHOICES,
    DAY_PARTS,
    DAYS,
    AgeBand,
    Alert,
    Appointment,
    Contact,
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)
from .sanitise import sanitise_text
from .selectors import supporters_for_matching, waiting_list_for_matching

SEED = 20_250_611
LONDON = ZoneInfo("Europe/London")

DEMO_VOLUNTEER = "demo-peer-volunteer"
DEMO_WORKER = "demo-peer-support-worker"
DEMO_SERVICE_USER = "demo-service-user"
DEMO_COORDINATOR = "demo-coordinator"
DEMO_PERSON_NAME = "Jordan"

# Common first names that say nothing about anyone. Never "Avery" or "Robin": the test suite
# treats those two as personal data when they appear in a log line.
FIRST_NAMES = (
    "Sam", "Alex", "Charlie", "Jamie", "Taylor", "Morgan", "Casey", "Riley", "Jesse",
    "Frankie", "Ali", "Kai", "Reece", "Danny", "Chris", "Jo", "Lee", "Pat", "Mo", "Toni",
    "Billie", "Sasha", "Nicky", "Ashley", "Drew", "Max", "Kit", "Ray", "Bobby", "Sandy", "Mel",
    "Terry", "Jess", "Harley", "Dani", "Georgie", "Eli", "Ash", "Sol", "Rory", "Ellis", "Jude",
    "Remy", "Sky", "Jay", "Marley", "Tyler", "Andy", "Nat", "Lou", "Shay", "Quinn", "Cam",
    "Hayden", "Blair", "Noor", "Sami", "Rene", "Jackie", "Leslie",
)  # fmt: skip

# Drama-range numbers (+447700900NNN), by use. Numbers an account already holds are skipped.
DRAMA_PREFIX = "+447700900"
SUPPORTER_PHONES = range(200, 260)
REFERRAL_PHONES = range(600, 1000)

SUPPORTERS_PER_SERVICE = 18  # each service's own; SHARED_SUPPORTERS more work in both
SHARED_SUPPORTERS = 3
RECORDS_PER_SERVICE = 150
PUBLIC_REQUESTS = 12  # from the "Ask for a peer supporter" form: referred, no account
REFERRED_WITHOUT_ACCOUNT = 13  # from the L&D team, account not made yet
WITHOUT_CONSENT = 4  # an account, but peer support consent not recorded yet
CLOSED_WITHOUT_MATCH = 5

OTHER_LANGUAGES = {"northmoor": ("pl", "ur", "pa"), "riverside-eastfield": ("pl", "ro", "so")}
INTERESTS = (
    "football", "music", "gaming", "fishing", "cooking", "walking", "art", "films", "gym",
    "reading", "gardening", "boxing", "faith", "cars", "animals",
)  # fmt: skip
SLOTS = [[day, part] for day in DAYS for part in DAY_PARTS]
NEED_WEIGHTS = {
    "mental_health": 30,
    "learning_disability": 10,
    "autism": 8,
    "drug_use": 18,
    "alcohol": 14,
    "housing": 16,
    "debt": 10,
    "domestic_abuse": 6,
    "veteran": 3,
    "other": 5,
}

# Neutral place labels (they go into text messages: no word from SMS_SENSITIVE_WORDS) with a
# fictional address, and the kind of appointment usually held there.
PLACES = {
    "northmoor": [
        ("Northmoor Health Centre", "14 Mill Lane, Northmoor NM1 4AB", Appointment.Kind.GP),
        ("Upper Dale Surgery", "2 Church Row, Upper Dale UD1 3HS", Appointment.Kind.GP),
        (
            "Northmoor Wellbeing Centre",
            "Wellbeing Centre, 40 Station Road, Northmoor NM2 1XY",
            Appointment.Kind.MENTAL_HEALTH_ASSESSMENT,
        ),
        (
            "Beacon House",
            "Beacon House, 3 Quarry Road, Northmoor NM2 7QD",
            Appointment.Kind.DRUG_ALCOHOL_SERVICE,
        ),
        (
            "Northmoor Housing Options",
            "Civic Offices, 1 Market Square, Northmoor NM1 1AA",
            Appointment.Kind.HOUSING,
        ),
        (
            "Jobcentre Plus Dalebridge",
            "Unit 4, Bridge Street, Dalebridge DB1 2JP",
            Appointment.Kind.BENEFITS,
        ),
        (
            "Dalebridge Community Hub",
            "Community Hub, 9 Fold Lane, Dalebridge DB2 5LT",
            Appointment.Kind.OTHER,
        ),
    ],
    "riverside-eastfield": [
        ("Riverside Centre", "Riverside Centre, 21 Wharf Street, Riverside RV1 2QA", None),
        ("Eastfield Medical Practice", "88 High Street, Eastfield EF1 4DN", Appointment.Kind.GP),
        (
            "Kingsmere Wellbeing Hub",
            "The Hub, 5 Lake Road, Kingsmere KM1 6RB",
            Appointment.Kind.MENTAL_HEALTH_ASSESSMENT,
        ),
        (
            "Harbour House",
            "Harbour House, 12 Dock Lane, Riverside RV2 8TU",
            Appointment.Kind.DRUG_ALCOHOL_SERVICE,
        ),
        (
            "Eastfield Housing Advice",
            "Town Hall, Eastfield EF2 1AB",
            Appointment.Kind.HOUSING,
        ),
        (
            "Jobcentre Plus Riverside",
            "6 Canal Street, Riverside RV1 5GG",
            Appointment.Kind.BENEFITS,
        ),
    ],
}
APPOINTMENT_TIMES = (time(9, 30), time(10, 0), time(11, 15), time(13, 45), time(14, 30))

CONTACT_SUMMARIES = (
    ("Phoned to remind them about the appointment and agreed where to meet.", ""),
    ("Met for a coffee and talked about how the week had gone.", "Meet again next week."),
    ("Went with them to the appointment. They spoke for themselves and did well.", ""),
    ("Helped fill in the housing form together.", "Chase the housing office on Friday."),
    ("Short call: they were feeling low but said they would keep going.", "Call on Monday."),
    ("Texted to check in; they replied that things are calmer.", ""),
    ("Looked at the bus times for the new appointment and practised the journey.", ""),
    ("Talked about what they want from the next few weeks.", "Write down two small goals."),
)
SAFEGUARDING_SUMMARIES = (
    (
        "They said they did not feel safe at home at the moment. I told the duty worker "
        "straight away, as agreed in training.",
        "Duty worker to call them today.",
    ),
    (
        "They mentioned someone had been pressuring them for money. I passed this on to "
        "the team the same day.",
        "Team to follow up.",
    ),
)
PUBLIC_NOTES = (
    "I would like someone to come with me to my first appointment.",
    "They find phone calls hard. Texting is better.",
    "I was told about peer support at court and would like to try it.",
    "They are worried about going to appointments on their own.",
    "Please call after 2pm. Mornings are difficult.",
    "They asked me to fill this in for them because reading forms is hard.",
)
REFERRER_RELATIONSHIPS = ("Mum", "Friend", "Partner", "Brother", "Support worker at the hostel")
CLOSED_REASONS = (
    "Moved out of the area",
    "Said they no longer want peer support",
    "Could not be reached after three tries",
    "Now supported by another service",
)
EXCLUSIONS = (
    (Exclusion.Kind.CO_DEFENDANT, "Co-defendants in the same case: must not share a supporter."),
    (Exclusion.Kind.FAMILY, "Cousins. Both asked not to share a supporter."),
)
SUPPORTER_EXCLUSION = (
    Exclusion.Kind.KNOWN_TO_EACH_OTHER,
    "They grew up on the same street. Agreed with both that they should not be matched.",
)
VOLUNTARY_PAUSES = ("Taking a break for a few weeks", "On holiday until the end of the month")


def _validate_row(obj: models.Model) -> None:
    """Field validation without a query per row, for rows saved in bulk: their foreign keys
    point at rows this seeder has just made, and the database enforces keys, unique and check
    constraints anyway."""
    relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
    obj.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)


# --- Counts ----------------------------------------------------------------------------------


def peer_support_demo_counts(*, services: list[Service]) -> dict[str, int]:
    """What the demo services hold now (one summary line for ``seed_demo``)."""
    ids = [s.pk for s in services]
    matches = Match.objects.filter(service_user__service_id__in=ids)
    offers = Offer.objects.filter(service_user__service_id__in=ids)
    return {
        "supporters": Supporter.objects.filter(services__in=ids).distinct().count(),
        "records": ServiceUserRecord.objects.filter(service_id__in=ids).count(),
        "matches": matches.count(),
        "active_matches": matches.filter(ended_at__isnull=True).count(),
        "appointments": Appointment.objects.filter(service_user__service_id__in=ids).count(),
        "contacts": Contact.objects.filter(service_user__service_id__in=ids).count(),
        "offers": offers.count(),
        "pending_offers": offers.filter(status=Offer.Status.PENDING).count(),
        "alerts": Alert.objects.filter(service_id__in=ids).count(),
        "exclusions": Exclusion.objects.filter(service_user__service_id__in=ids).count(),
    }


def peer_support_demo_seed(*, services: list[Service]) -> dict[str, int]:
    """Create the demo's supporters, referrals, matches, appointments, contacts, offers and
    alerts in ``services`` (the demo services, the first being the demo accounts' own), once.
    Returns the counts either way."""
    if not Supporter.objects.filter(user__username=DEMO_VOLUNTEER).exists():
        with transaction.atomic():
            _Seeder(services).run()
    return peer_support_demo_counts(services=services)


# --- Seeding ---------------------------------------------------------------------------------


@dataclass
class _Timeline:
    """When a match really started (and ended): services stamp "now", the demo moves it."""

    record_id: int
    started_at: datetime
    ended_at: datetime | None = None


@dataclass
class _ServiceState:
    service: Service
    actor: User
    districts: list[str]
    supporters: list[Supporter] = field(default_factory=list)
    records: list[ServiceUserRecord] = field(default_factory=list)


class _Seeder:
    def __init__(self, services: list[Service]) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, reproducible on purpose
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.services = services
        self.states: list[_ServiceState] = []
        self.taken_mobiles = {
            getattr(m, "as_e164", str(m))
            for m in User.objects.exclude(mobile="").values_list("mobile", flat=True)
        }
        self.phone_cursor: dict[int, int] = {}
        self.names = self.rng.sample(FIRST_NAMES, len(FIRST_NAMES))
        self.name_index = 0
        self.timelines: dict[int, _Timeline] = {}
        self.record_created: dict[int, datetime] = {}
        self.supporter_user_n = 0
        self.person_user_n = 0
        self.contact_n = 0
        self.pending_contacts: list[Contact] = []
        self.pending_appointments: list[Appointment] = []

    # --- small helpers

    def _name(self) -> str:
        name = self.names[self.name_index % len(self.names)]
        self.name_index += 1
        return name

    def _phone(self, block: range) -> str:
        """The next free drama number in ``block``, or "" when the block is used up."""
        n = self.phone_cursor.get(block.start, block.start)
        while n < block.stop:
            number = f"{DRAMA_PREFIX}{n:03d}"
            n += 1
            if number not in self.taken_mobiles:
                self.phone_cursor[block.start] = n
                self.taken_mobiles.add(number)
                return number
        self.phone_cursor[block.start] = n
        return ""

    def _referral_phone(self) -> str:
        """Numbers for people without an account may repeat: a shared phone is common."""
        return f"{DRAMA_PREFIX}{self.rng.choice(REFERRAL_PHONES):03d}"

    def _needs(self, low: int, high: int) -> list[str]:
        codes = list(NEED_WEIGHTS)
        chosen = self.rng.choices(codes, weights=list(NEED_WEIGHTS.values()), k=high)
        wanted = self.rng.randint(low, high)
        return [c for c in codes if c in set(chosen[:wanted])]

    def _slots(self, low: int, high: int) -> list[list[str]]:
        picked = self.rng.sample(range(len(SLOTS)), self.rng.randint(low, high))
        return [list(SLOTS[i]) for i in sorted(picked)]

    def _interests(self, low: int, high: int) -> list[str]:
        return sorted(self.rng.sample(INTERESTS, self.rng.randint(low, high)))

    def _at(self, day: date, at: time) -> datetime:
        """A Europe/London wall-clock time (the demo's times are all in working hours, so
        never in the hour the clocks skip or repeat)."""
        return datetime.combine(day, at, tzinfo=LONDON)

    def _audit_created(
        self,
        *,
        actor: User | None,
        objects: Iterable[models.Model],
        service_id: int | None,
        subjects: dict[int, int | None] | None = None,
        subject_field: str = "service_user_id",
        detail: str = "demo data",
        actor_field: str | None = None,
    ) -> None:
        """One "created" event per bulk-inserted row, as the services would have written.
        The subject is the person the row is about (``subjects`` maps a record id to their
        account)."""

        def subject_of(obj: models.Model) -> int | None:
            if subjects is not None:
                return subjects.get(getattr(obj, subject_field, None))
            return getattr(obj, "user_id", None) or getattr(obj, "subject_id", None)

        def actor_of(obj: models.Model) -> int | None:
            if actor_field is not None:
                return getattr(obj, actor_field)
            return actor.pk if actor is not None else None

        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor_id=actor_of(obj),
                    action=AuditEvent.Action.CREATE,
                    object_type=obj._meta.label_lower,
                    object_id=str(obj.pk),
                    subject_id=subject_of(obj),
                    service_id=service_id,
                    detail=detail,
                )
                for obj in objects
            ]
        )

    # --- the run

    def run(self) -> None:
        consent_wording_ensure()
        coordinator = User.objects.get(username=DEMO_COORDINATOR)
        for service in self.services:
            districts = service.postcode_districts.split() or ["NM1"]
            self.states.append(_ServiceState(service, coordinator, districts))
        self._seed_supporters()
        for state in self.states:
            state.actor = self._casework_actor(state.service)
        # Last night's readiness sweep: supporters not ready are paused, staff alerted. A DBS
        # check that lapses today is left for tonight's run (shown as not ready, not paused).
        services.supporters_readiness_sweep(today=self.today - timedelta(days=1))
        for state in self.states:
            self._seed_records(state)
        jordan = self._seed_demo_person()
        for state in self.states:
            self._seed_exclusions(state)
        reserve = {self.demo_volunteer.pk: 2}  # places kept for offers on their offers page
        for state in self.states:
            self._match_round(state, share=0.8, reserve=reserve)
        for state in self.states:
            self._end_some_matches(state)
            self._close_some_records(state)
        for state in self.states:
            self._match_round(state, share=0.75, reserve=reserve, via_offers=2)
        self._demo_volunteer_offers()
        for state in self.states:
            self._declined_offers(state, count=2)
            self._pending_offers(state, count=2)
        for state in self.states:
            self._activity_for_active_matches(state, skip={jordan.pk} if jordan else set())
        self._flush_history()
        self._backdate()

    def _casework_actor(self, service: Service) -> User:
        """Who makes the service's referrals, matches and offers: the demo coordinator in
        their own service, else the service's first coordinator or peer support worker (the
        second demo service has no demo account of its own)."""
        casework = Membership.objects.filter(
            service=service, role__in=[Role.COORDINATOR, Role.PEER_SUPPORT_WORKER]
        )
        preferred = casework.filter(user__username=DEMO_COORDINATOR).first()
        chosen = preferred or casework.order_by("role", "user_id").first()
        if chosen is None:
            raise ValueError(f"Service {service.pk} has no coordinator or peer support worker.")
        return User.objects.get(pk=chosen.user_id)

    # --- supporters

    def _seed_supporters(self) -> None:
        values = {
            "dbs_valid": settings.PEER_DBS_VALID_DAYS,
            "supervision": settings.PEER_SUPERVISION_INTERVAL_DAYS,
            "training": list(settings.PEER_REQUIRED_TRAINING),
        }
        specs: list[tuple[list[_ServiceState], dict]] = []
        for s_index, state in enumerate(self.states):
            other = OTHER_LANGUAGES.get(state.service.slug, ("pl", "ur", "pa"))
            spoken = {0: ["en", other[0]], 1: ["en", other[1]], 2: [other[2], "en"]}
            spoken[3] = spoken[0]
            for i in range(SUPPORTERS_PER_SERVICE):
                spec = {
                    "kind": Supporter.Kind.WORKER if i in (4, 5, 6) else Supporter.Kind.VOLUNTEER,
                    "languages": spoken.get(i, ["en"]),
                    "readiness": {14: "dbs_lapsed", 15: "training", 16: "supervision"}.get(
                        i, "lapses_today" if i == 12 else "ready"
                    ),
                    "pause": VOLUNTARY_PAUSES[i - 10] if i in (10, 11) else "",
                    "gender": "non-binary"
                    if (i + s_index) % 9 == 8
                    else ("female", "male")[i % 2],
                    "cleared": i in (4, 5, 6, 7) or (i % 5 == 0 and i < 14),
                }
                specs.append(([state], spec))
        for i in range(SHARED_SUPPORTERS):
            specs.append(
                (
                    list(self.states),
                    {
                        "kind": Supporter.Kind.WORKER if i == 0 else Supporter.Kind.VOLUNTEER,
                        "languages": ["en", "pl"] if i == 1 else ["en"],
                        "readiness": "ready",
                        "pause": "",
                        "gender": ("female", "male")[i % 2],
                        "cleared": i == 0,
                    },
                )
            )

        users, profiles, memberships = [], [], []
        for states, spec in specs:
            self.supporter_user_n += 1
            n = self.supporter_user_n
            user = User(
                username=f"demo-supporter-{n}",
                first_name=self._name(),
                email=f"demo-supporter-{n}@example.org",
                mobile=self._phone(SUPPORTER_PHONES),
            )
            user.set_unusable_password()
            _validate_row(user)
            users.append(user)
            profiles.append(self._supporter_profile(spec, states, values))
        User.objects.bulk_create(users)
        for user, profile, (states, spec) in zip(users, profiles, specs, strict=True):
            profile.user = user
            _validate_row(profile)
            role = (
                Role.PEER_SUPPORT_WORKER
                if spec["kind"] == Supporter.Kind.WORKER
                else Role.PEER_VOLUNTEER
            )
            memberships.extend(Membership(user=user, service=s.service, role=role) for s in states)
        Supporter.objects.bulk_create(profiles)
        Membership.objects.bulk_create(memberships)
        through = Supporter.services.through
        through.objects.bulk_create(
            through(supporter_id=profile.pk, service_id=s.service.pk)
            for profile, (states, _) in zip(profiles, specs, strict=True)
            for s in states
        )
        for profile, (states, _) in zip(profiles, specs, strict=True):
            for s in states:
                s.supporters.append(profile)
        self._audit_created(actor=self.states[0].actor, objects=profiles, service_id=None)

        # The demo accounts' own profiles, in the first service, ready.
        first = self.states[0]
        for username, kind, capacity in (
            (DEMO_VOLUNTEER, Supporter.Kind.VOLUNTEER, 4),
            (DEMO_WORKER, Supporter.Kind.WORKER, 5),
        ):
            profile = self._supporter_profile(
                {
                    "kind": kind,
                    "languages": ["en"],
                    "readiness": "ready",
                    "pause": "",
                    "gender": "female" if kind == Supporter.Kind.VOLUNTEER else "male",
                    "cleared": kind == Supporter.Kind.WORKER,
                },
                [first],
                values,
            )
            profile.user = User.objects.get(username=username)
            profile.capacity = capacity
            profile.lived_experience = ["mental_health", "housing", "alcohol"]
            profile.districts_covered = first.districts[:3]
            profile.full_clean()
            profile.save()
            profile.services.set([first.service])
            first.supporters.append(profile)
            self._audit_created(actor=first.actor, objects=[profile], service_id=None)
            if kind == Supporter.Kind.VOLUNTEER:
                self.demo_volunteer = profile

    def _supporter_profile(
        self, spec: dict, states: list[_ServiceState], values: dict
    ) -> Supporter:
        rng = self.rng
        today = self.today
        training = list(values["training"])
        dbs = today - timedelta(days=rng.randint(30, values["dbs_valid"] - 60))
        supervision = today - timedelta(days=rng.randint(1, values["supervision"] - 7))
        readiness = spec["readiness"]
        if readiness == "dbs_lapsed":
            dbs = today - timedelta(days=values["dbs_valid"] + rng.randint(2, 60))
        elif readiness == "lapses_today":
            dbs = today - timedelta(days=values["dbs_valid"])
        elif readiness == "training":
            training = training[: max(len(training) - 2, 0)]
        elif readiness == "supervision":
            supervision = today - timedelta(days=values["supervision"] + rng.randint(5, 40))
        districts = sorted({d for s in states for d in s.districts})
        worker = spec["kind"] == Supporter.Kind.WORKER
        has_disclosure = rng.random() < 0.15
        return Supporter(
            kind=spec["kind"],
            lived_experience=self._needs(1, 3),
            languages=spec["languages"],
            gender=spec["gender"],
            districts_covered=sorted(
                rng.sample(districts, rng.randint(2, min(4, len(districts))))
            ),
            interests=self._interests(1, 4),
            capacity=rng.randint(4, 5) if worker else rng.choice([1, 2, 3, 3, 4, 4, 5]),
            availability=self._slots(4, 10),
            paused=bool(spec["pause"]),
            paused_reason=spec["pause"],
            dbs_checked_on=dbs,
            dbs_level=Supporter.DBSLevel.ENHANCED,
            risk_assessment_recorded_on=dbs + timedelta(days=14) if has_disclosure else None,
            risk_assessment_notes=(
                "Disclosure on the DBS check reviewed with the supporter; no restrictions."
                if has_disclosure
                else ""
            ),
            training_modules_completed=training,
            last_supervision_on=supervision,
            cleared_for_under_18=spec["cleared"],
        )

    # --- records

    def _record(self, state: _ServiceState, **fields) -> ServiceUserRecord:
        rng = self.rng
        languages, accessibility = ["en"], []
        other = OTHER_LANGUAGES.get(state.service.slug, ("pl",))
        roll = rng.random()
        if roll < 0.08:
            languages = ["en", rng.choice(other)]
            if rng.random() < 0.4:
                accessibility.append("interpreter")
        elif roll < 0.12:
            languages = [rng.choice(other), "en"]
        elif roll < 0.14:
            languages = [rng.choice(other)]
            accessibility.append("interpreter")
        if rng.random() < 0.06:
            accessibility.append("easy_read")
        if rng.random() < 0.02:
            accessibility.append("large_print")
        gender = rng.choices(["female", "male", "non-binary", ""], weights=[42, 48, 4, 6])[0]
        preferred = ""
        if gender in ("female", "male") and rng.random() < 0.2:
            preferred = gender
        order = [code for code, _ in ACCESSIBILITY_CHOICES]
        values = {
            "service": state.service,
            "preferred_name": self._name(),
            "age_band": rng.choices(list(AgeBand.values), weights=[8, 27, 65])[0],
            "gender": gender,
            "preferred_supporter_gender": preferred,
            "languages": languages,
            "home_district": rng.choice(state.districts),
            "needs": self._needs(1, 3),
            "accessibility_needs": sorted(set(accessibility), key=order.index),
            "interests": self._interests(0, 3),
            "availability": self._slots(2, 6),
            "in_custody": rng.random() < 0.02,
        }
        values.update(fields)
        return ServiceUserRecord(**values)

    def _seed_records(self, state: _ServiceState) -> None:
        rng = self.rng
        service = state.service
        # From the public form, through the service (sanitised notes, a "new request" alert).
        for i in range(PUBLIC_REQUESTS):
            someone_else = i % 2 == 1
            # The person's own number: ``referrer_phone`` refuses drama-range mobiles (see
            # the module docstring), so the demo leaves it empty.
            mobile = self._referral_phone()
            record = services.referral_request_create(
                service=service,
                source=(
                    ServiceUserRecord.Source.SOMEONE_ELSE
                    if someone_else
                    else ServiceUserRecord.Source.SELF
                ),
                preferred_name=self._name(),
                age_band=rng.choices(list(AgeBand.values), weights=[10, 30, 60])[0],
                mobile=mobile,
                home_district=rng.choice(state.districts),
                needs=self._needs(0, 2),
                notes=rng.choice(PUBLIC_NOTES),
                referrer_name=self._name() if someone_else else "",
                referrer_relationship=rng.choice(REFERRER_RELATIONSHIPS) if someone_else else "",
            )
            state.records.append(record)
            self.record_created[record.pk] = self.now - timedelta(hours=rng.randint(2, 24 * 6))

        # From the L&D team: some without an account yet, the rest with one.
        new: list[ServiceUserRecord] = []
        users: list[User] = []
        for i in range(RECORDS_PER_SERVICE - PUBLIC_REQUESTS):
            if i < REFERRED_WITHOUT_ACCOUNT:
                record = self._record(
                    state,
                    status=ServiceUserRecord.Status.REFERRED,
                    mobile=self._referral_phone() if i % 5 else "",
                )
            else:
                record = self._record(
                    state,
                    status=ServiceUserRecord.Status.AWAITING_MATCH,
                    mobile=self._referral_phone(),
                )
                self.person_user_n += 1
                user = User(
                    username=f"demo-person-{self.person_user_n}",
                    first_name=record.preferred_name,
                )
                user.set_unusable_password()
                _validate_row(user)
                users.append(user)
                record.user = user
            new.append(record)
        User.objects.bulk_create(users)
        for record in new:
            record.user = record.user  # take the saved user's id
            _validate_row(record)
        ServiceUserRecord.objects.bulk_create(new)
        Membership.objects.bulk_create(
            Membership(user=user, service=service, role=Role.SERVICE_USER) for user in users
        )
        self._audit_created(actor=state.actor, objects=new, service_id=service.pk)
        state.records.extend(new)

        # Consent to peer support (and mostly to reminders), said out loud in custody or at
        # court and recorded by the team; a few have not been asked yet.
        wordings = {
            w.purpose: w
            for w in ConsentWording.objects.filter(version=1).order_by("purpose", "-version")
        }
        consents = []
        for index, user in enumerate(users):
            if index < WITHOUT_CONSENT:
                continue
            method = rng.choice([ConsentMethod.VERBAL_IN_CUSTODY, ConsentMethod.VERBAL_AT_COURT])
            purposes = [ConsentPurpose.PEER_SUPPORT]
            if rng.random() < 0.85:
                purposes.append(ConsentPurpose.SMS_REMINDERS)
            for purpose in purposes:
                consent = Consent(
                    subject=user,
                    service=service,
                    purpose=purpose,
                    wording=wordings[purpose],
                    given_at=self.now,
                    given_method=method,
                    recorded_by=state.actor,
                )
                _validate_row(consent)
                consents.append(consent)
        Consent.objects.bulk_create(consents)
        self._audit_created(actor=state.actor, objects=consents, service_id=service.pk)
        for record in new:
            if record.status == ServiceUserRecord.Status.REFERRED:
                self.record_created[record.pk] = self.now - timedelta(
                    hours=rng.randint(3, 24 * 10)
                )

    def _seed_demo_person(self) -> ServiceUserRecord | None:
        """Jordan: the demo service user's record, matched with the demo volunteer, with
        appointments coming up, one that went well and a couple of contacts."""
        state = self.states[0]
        person = User.objects.get(username=DEMO_SERVICE_USER)
        if ServiceUserRecord.objects.filter(user=person).exists():
            return None
        record = self._record(
            state,
            preferred_name=DEMO_PERSON_NAME,
            user=person,
            mobile=str(person.mobile),
            age_band=AgeBand.AGE_25_PLUS,
            preferred_supporter_gender="",
            languages=["en"],
            accessibility_needs=[],
            home_district=state.districts[0],
            needs=["mental_health", "housing"],
            in_custody=False,
            status=ServiceUserRecord.Status.AWAITING_MATCH,
        )
        record.full_clean()
        record.save()
        self._audit_created(actor=state.actor, objects=[record], service_id=state.service.pk)
        state.records.append(record)
        volunteer = self.demo_volunteer
        match = services.match_create(
            service_user=record, supporter=volunteer, created_by=state.actor
        )
        started = self.now - timedelta(days=21)
        self.timelines[match.pk] = _Timeline(record.pk, started)
        self.record_created[record.pk] = started - timedelta(days=6)
        arranger = volunteer.user
        past = services.appointment_create(
            service_user=record,
            kind=Appointment.Kind.GP,
            place_label="Northmoor Health Centre",
            address="14 Mill Lane, Northmoor NM1 4AB",
            starts_at=self._at(self.today - timedelta(days=7), time(10, 0)),
            arranged_by=arranger,
            supporter_attending=True,
        )
        services.appointment_outcome_record(
            appointment=past, outcome=Appointment.Outcome.ATTENDED, recorded_by=arranger
        )
        for days, kind, label, address in (
            (
                2,
                Appointment.Kind.HOUSING,
                "Northmoor Housing Options",
                "Civic Offices, 1 Market Square, Northmoor NM1 1AA",
            ),
            (
                9,
                Appointment.Kind.MENTAL_HEALTH_ASSESSMENT,
                "Northmoor Wellbeing Centre",
                "Wellbeing Centre, 40 Station Road, Northmoor NM2 1XY",
            ),
        ):
            services.appointment_create(
                service_user=record,
                kind=kind,
                place_label=label,
                address=address,
                starts_at=self._at(self.today + timedelta(days=days), time(10, 30)),
                arranged_by=arranger,
                supporter_attending=True,
            )
        for days_ago, method, minutes, summary, next_step in (
            (
                8,
                Contact.Method.PHONE,
                15,
                "Phoned to plan the GP appointment and agreed to meet outside at ten to ten.",
                "",
            ),
            (
                3,
                Contact.Method.IN_PERSON,
                45,
                "Met for a coffee. Talked about the housing appointment and what to bring.",
                "Bring the letter from the council.",
            ),
        ):
            services.contact_log_create(
                service_user=record,
                logged_by=arranger,
                occurred_at=self.now - timedelta(days=days_ago),
                method=method,
                duration_minutes=minutes,
                summary=summary,
                next_step=next_step,
            )
        return record

    def _seed_exclusions(self, state: _ServiceState) -> None:
        waiting = [
            r
            for r in state.records
            if r.status == ServiceUserRecord.Status.AWAITING_MATCH and r.user_id
        ]
        picks = self.rng.sample(waiting[WITHOUT_CONSENT:], 5)
        for (kind, reason), (a, b) in zip(
            EXCLUSIONS, [(picks[0], picks[1]), (picks[2], picks[3])], strict=True
        ):
            services.exclusion_create(
                service_user=a, other_service_user=b, kind=kind, reason=reason,
                entered_by=state.actor,
            )  # fmt: skip
        ready = [s for s in state.supporters if not s.paused]
        kind, reason = SUPPORTER_EXCLUSION
        services.exclusion_create(
            service_user=picks[4],
            supporter=self.rng.choice(ready),
            kind=kind,
            reason=reason,
            entered_by=state.actor,
        )

    # --- matching

    def _match_round(
        self,
        state: _ServiceState,
        *,
        share: float,
        reserve: dict[int, int],
        via_offers: int = 0,
    ) -> None:
        """The batch matcher over part of the waiting list (so many people are still
        waiting), as a coordinator would run it.

        Its input comes from the selectors the services use (consent, no supporter, no offer
        waiting, places taken, readiness today, exclusions expanded), and it only pairs people
        who pass every hard rule, so its pairs are saved in bulk; the first ``via_offers`` go
        through ``offer_make`` and ``offer_accept`` instead, which check everything again.
        ``reserve`` keeps places free (for the demo volunteer's offers page).
        """
        sid = state.service.pk
        referrals = waiting_list_for_matching(service_ids=[sid])
        self.rng.shuffle(referrals)
        candidates = [
            dataclasses.replace(
                s, active_matches=min(s.capacity, s.active_matches + reserve.get(s.id, 0))
            )
            for s in supporters_for_matching(service_ids=[sid])
        ]
        free = sum(s.free_places for s in candidates if not s.paused and s.readiness_valid)
        result = matching.match_waiting_list(
            referrals[: int(free * share)], candidates, weights=matching.weights_from_settings()
        )
        pairs = dict(sorted(result.pairs.items()))
        # Two people who must not meet may not share a supporter: the batch sees each person
        # alone, so a second person given the same supporter waits for the next round.
        for a, b in Exclusion.objects.filter(
            service_user__service_id=sid, other_service_user__isnull=False
        ).values_list("service_user_id", "other_service_user_id"):
            if a in pairs and b in pairs and pairs[a] == pairs[b]:
                del pairs[b]
        records = ServiceUserRecord.objects.in_bulk(list(pairs))
        supporters = Supporter.objects.select_related("user").in_bulk(list(set(pairs.values())))
        bulk: list[Match] = []
        starts: dict[int, datetime] = {}
        for index, (record_id, supporter_id) in enumerate(pairs.items()):
            record, supporter = records[record_id], supporters[supporter_id]
            started = self._match_start(record_id)
            if index < via_offers:
                try:
                    offer = services.offer_make(
                        service_user=record, supporter=supporter, offered_by=state.actor
                    )
                    services.offer_accept(offer=offer, accepted_by=supporter.user)
                except ValidationError:
                    continue  # stays on the waiting list
            else:
                match = Match(
                    service_user=record,
                    supporter=supporter,
                    started_at=started,
                    created_by=state.actor,
                )
                _validate_row(match)
                bulk.append(match)
            starts[record_id] = started
        Match.objects.bulk_create(bulk)
        for match_id, record_id in Match.objects.filter(
            service_user_id__in=list(starts), ended_at__isnull=True
        ).values_list("pk", "service_user_id"):
            self.timelines[match_id] = _Timeline(record_id, starts[record_id])
        ServiceUserRecord.objects.filter(pk__in=[m.service_user_id for m in bulk]).update(
            status=ServiceUserRecord.Status.MATCHED
        )
        self._audit_created(
            actor=state.actor,
            objects=bulk,
            service_id=sid,
            subjects={r.pk: r.user_id for r in records.values()},
            detail="fields=service_user,supporter",
        )

    def _match_start(self, record_id: int) -> datetime:
        """A new match starts after the person's last one ended."""
        previous = [
            t.ended_at
            for t in self.timelines.values()
            if t.record_id == record_id and t.ended_at is not None
        ]
        hours = timedelta(hours=self.rng.randint(1, 8))
        if previous:
            days = max((self.now - max(previous)).days - 1, 1)
            return self.now - timedelta(days=self.rng.randint(1, days)) - hours
        return self.now - timedelta(days=self.rng.randint(1, 120)) - hours

    def _end_some_matches(self, state: _ServiceState) -> None:
        """About a third of the first matches end, with history: contacts and appointments
        while they lasted, then an end reason (the person re-referred, or their record
        closed)."""
        rng = self.rng
        active = list(
            Match.objects.filter(
                service_user__service=state.service, ended_at__isnull=True, pk__in=self.timelines
            )
            .exclude(service_user__user__username=DEMO_SERVICE_USER)
            .select_related("service_user__service", "supporter__user")
            .order_by("pk")
        )
        reasons = [
            (Match.EndReason.GOALS_MET, True),
            (Match.EndReason.MOVED, True),
            (Match.EndReason.DISENGAGED, False),
            (Match.EndReason.SUPPORTER_LEFT, False),
            (Match.EndReason.SAFEGUARDING, False),
            (Match.EndReason.GOALS_MET, True),
        ]
        for index, match in enumerate(rng.sample(active, len(active) // 3)):
            started = self.now - timedelta(days=rng.randint(90, 170), hours=rng.randint(1, 8))
            ended = self.now - timedelta(days=rng.randint(14, 60), hours=rng.randint(1, 8))
            self.timelines[match.pk] = _Timeline(match.service_user_id, started, ended)
            self._activity(match, started, ended, upcoming=False)
            reason, close = reasons[index % len(reasons)]
            services.match_end(
                match=match, reason=reason, ended_by=state.actor, close_record=close
            )

    def _close_some_records(self, state: _ServiceState) -> None:
        waiting = list(
            ServiceUserRecord.objects.filter(
                service=state.service,
                status=ServiceUserRecord.Status.AWAITING_MATCH,
                matches__isnull=True,
            ).order_by("pk")
        )
        for index, record in enumerate(self.rng.sample(waiting, CLOSED_WITHOUT_MATCH)):
            services.service_user_record_close(
                record=record,
                reason=CLOSED_REASONS[index % len(CLOSED_REASONS)],
                closed_by=state.actor,
            )
            self.record_created[record.pk] = self.now - timedelta(days=self.rng.randint(30, 150))

    # --- offers

    def _eligible(self, service_id: int) -> list[tuple[matching.Referral, list[int]]]:
        """Each waiting person with the supporters who could be offered them now, best
        first."""
        referrals = waiting_list_for_matching(service_ids=[service_id])
        supporters = supporters_for_matching(service_ids=[service_id])
        weights = matching.weights_from_settings()
        return [
            (r, [s.supporter_id for s in matching.rank_candidates(r, supporters, weights=weights)])
            for r in referrals
        ]

    def _demo_volunteer_offers(self) -> None:
        """Two people offered to the demo volunteer, so their offers page has something."""
        state = self.states[0]
        volunteer = self.demo_volunteer
        waiting = [(r, ids) for r, ids in self._eligible(state.service.pk) if volunteer.pk in ids]
        made = 0
        for referral, _ in self.rng.sample(waiting, len(waiting)):
            if made == 2:
                break
            try:
                services.offer_make(
                    service_user=ServiceUserRecord.objects.get(pk=referral.id),
                    supporter=volunteer,
                    offered_by=state.actor,
                )
            except ValidationError:
                continue
            made += 1

    def _declined_offers(self, state: _ServiceState, *, count: int) -> None:
        """Offers the supporter said no to; the service offers the next candidate itself
        (or tells staff nobody is left)."""
        waiting = [(r, ids) for r, ids in self._eligible(state.service.pk) if len(ids) > 1]
        reasons = list(Offer.DeclineReason.values)
        for index, (referral, ids) in enumerate(
            self.rng.sample(waiting, min(count, len(waiting)))
        ):
            supporter = Supporter.objects.select_related("user").get(pk=ids[0])
            try:
                offer = services.offer_make(
                    service_user=ServiceUserRecord.objects.get(pk=referral.id),
                    supporter=supporter,
                    offered_by=state.actor,
                )
            except ValidationError:
                continue
            services.offer_decline(
                offer=offer, declined_by=supporter.user, reason=reasons[index % len(reasons)]
            )

    def _pending_offers(self, state: _ServiceState, *, count: int) -> None:
        waiting = [(r, ids) for r, ids in self._eligible(state.service.pk) if ids]
        made: list[Offer] = []
        for referral, ids in self.rng.sample(waiting, len(waiting)):
            if len(made) == count:
                break
            try:
                made.append(
                    services.offer_make(
                        service_user=ServiceUserRecord.objects.get(pk=referral.id),
                        supporter=Supporter.objects.get(pk=ids[0]),
                        offered_by=state.actor,
                    )
                )
            except ValidationError:
                continue
        if made:
            # One offer about to run out, so the expiry schedule has something to do soon.
            hours = settings.PEER_OFFER_DEADLINE_HOURS
            Offer.objects.filter(pk=made[0].pk).update(
                offered_at=self.now - timedelta(hours=hours - 2),
                respond_by=self.now + timedelta(hours=2),
            )

    # --- contacts and appointments

    def _activity_for_active_matches(self, state: _ServiceState, *, skip: set[int]) -> None:
        matches = (
            Match.objects.filter(service_user__service=state.service, ended_at__isnull=True)
            .exclude(service_user_id__in=skip)
            .select_related("service_user__service", "supporter__user")
            .order_by("pk")
        )
        for match in matches:
            timeline = self.timelines.get(match.pk)
            if timeline is None:
                continue
            self._activity(match, timeline.started_at, self.now, upcoming=True)

    @property
    def actors(self) -> dict[int, User]:
        return {state.service.pk: state.actor for state in self.states}

    def _activity(
        self, match: Match, started: datetime, until: datetime, *, upcoming: bool
    ) -> None:
        """Contacts and past appointments between ``started`` and ``until``, as the supporter
        would have logged them; for a current match, appointments to come as well.

        Safeguarding concerns and appointments to come go through the services (the urgent
        alert; the ``appointment_changed`` signal that schedules reminders). Ordinary past
        contacts and appointments are validated rows saved in bulk at the end
        (:meth:`_flush_history`), notes sanitised as ``contact_log_create`` would.
        """
        rng = self.rng
        record = match.service_user
        supporter_user = match.supporter.user
        places = PLACES.get(record.service.slug) or PLACES["northmoor"]
        span = max((until - started).total_seconds(), 3600.0)
        for _ in range(rng.randint(1, 3) if upcoming else rng.randint(1, 2)):
            self.contact_n += 1
            concern = self.contact_n % 40 == 7
            summary, next_step = rng.choice(
                SAFEGUARDING_SUMMARIES if concern else CONTACT_SUMMARIES
            )
            occurred_at = min(
                started + timedelta(seconds=rng.uniform(0.1, 0.95) * span),
                self.now - timedelta(hours=1),
            )
            method = rng.choice(list(Contact.Method.values))
            minutes = rng.choice([10, 15, 20, 30, 45, 60, 90])
            if concern:
                services.contact_log_create(
                    service_user=record,
                    logged_by=supporter_user,
                    occurred_at=occurred_at,
                    method=method,
                    duration_minutes=minutes,
                    summary=summary,
                    next_step=next_step,
                    safeguarding_concern=True,
                )
                continue
            contact = Contact(
                match=match,
                service_user=record,
                supporter=match.supporter,
                occurred_at=occurred_at,
                method=method,
                duration_minutes=minutes,
                summary=sanitise_text(summary),
                next_step=sanitise_text(next_step),
                created_by=supporter_user,
            )
            _validate_row(contact)
            self.pending_contacts.append(contact)
        past_days = (until.date() - started.date()).days
        for _ in range(rng.randint(0, 2) if past_days > 1 else 0):
            label, address, kind = rng.choice(places)
            day = started.date() + timedelta(days=rng.randint(1, past_days - 1))
            starts_at = self._at(
                min(day, self.today - timedelta(days=1)), rng.choice(APPOINTMENT_TIMES)
            )
            outcome = rng.choices(
                [
                    Appointment.Outcome.ATTENDED,
                    Appointment.Outcome.DID_NOT_ATTEND,
                    Appointment.Outcome.UNKNOWN,
                    "",
                ],
                weights=[60, 20, 10, 10],
            )[0]
            appointment = Appointment(
                service_user=record,
                kind=kind or rng.choice(list(Appointment.Kind.values)),
                place_label=label,
                address=address,
                starts_at=starts_at,
                arranged_by=supporter_user,
                supporter_attending=rng.random() < 0.6,
                outcome=outcome,
                outcome_recorded_by=supporter_user if outcome else None,
                outcome_recorded_at=starts_at + timedelta(hours=3) if outcome else None,
            )
            _validate_row(appointment)
            self.pending_appointments.append(appointment)
        if not upcoming:
            return
        for _ in range(rng.choices([0, 1, 2], weights=[25, 50, 25])[0]):
            label, address, kind = rng.choice(places)
            services.appointment_create(
                service_user=record,
                kind=kind or rng.choice(list(Appointment.Kind.values)),
                place_label=label,
                address=address,
                starts_at=self._at(
                    self.today + timedelta(days=rng.randint(1, 28)), rng.choice(APPOINTMENT_TIMES)
                ),
                arranged_by=(
                    supporter_user if rng.random() < 0.7 else self.actors[record.service_id]
                ),
                supporter_attending=rng.random() < 0.6,
            )

    def _flush_history(self) -> None:
        Contact.objects.bulk_create(self.pending_contacts)
        Appointment.objects.bulk_create(self.pending_appointments)
        for rows, actor_field in (
            (self.pending_contacts, "created_by_id"),
            (self.pending_appointments, "arranged_by_id"),
        ):
            for service_id in self.actors:
                self._audit_created(
                    actor=None,
                    objects=[r for r in rows if r.service_user.service_id == service_id],
                    service_id=service_id,
                    subjects={r.service_user_id: r.service_user.user_id for r in rows},
                    actor_field=actor_field,
                )
        self.pending_contacts.clear()
        self.pending_appointments.clear()

    # --- history

    def _backdate(self) -> None:
        """Services stamp "now"; move matches, records and alerts to when they would have
        happened, so lists and timelines read like a service that has been running."""
        matches = list(Match.objects.filter(pk__in=list(self.timelines)))
        for match in matches:
            timeline = self.timelines[match.pk]
            match.started_at = timeline.started_at
            if match.ended_at is not None:
                match.ended_at = timeline.ended_at
        Match.objects.bulk_update(matches, ["started_at", "ended_at"])
        first_start: dict[int, datetime] = {}
        for match in matches:
            current = first_start.get(match.service_user_id)
            if current is None or match.started_at < current:
                first_start[match.service_user_id] = match.started_at
        records = list(
            ServiceUserRecord.objects.filter(service__in=[s.service for s in self.states])
        )
        for record in records:
            if record.pk in first_start:
                created = first_start[record.pk] - timedelta(
                    days=self.rng.randint(2, 20), hours=self.rng.randint(0, 8)
                )
            else:
                created = self.record_created.get(record.pk) or self.now - timedelta(
                    days=self.rng.randint(1, 60), hours=self.rng.randint(0, 8)
                )
            record.created_at = created
        ServiceUserRecord.objects.bulk_update(records, ["created_at"])
        by_record = {r.pk: r.created_at for r in records}
        alerts = list(
            Alert.objects.filter(service__in=[s.service for s in self.states]).select_related(
                "contact"
            )
        )
        night = self._at(self.today, time(2, 0))  # when last night's sweep ran
        for alert in alerts:
            if alert.contact is not None:
                alert.created_at = alert.contact.occurred_at + timedelta(minutes=5)
            elif alert.kind == Alert.Kind.NEW_REFERRAL and alert.service_user_id in by_record:
                alert.created_at = by_record[alert.service_user_id] + timedelta(minutes=1)
            elif alert.kind == Alert.Kind.SUPPORTER_NOT_READY:
                alert.created_at = min(night, self.now)
        Alert.objects.bulk_update(alerts, ["created_at"])
