"""Matching people referred by L&D with peer supporters: pure functions, no database.

The lead's services load rows, turn them into the frozen dataclasses below and call
:func:`rank_candidates` (one person, "who could support them?") or
:func:`match_waiting_list` (the whole waiting list at once). Nothing here touches the ORM, so
the rules can be tested exhaustively and benchmarked without a database.

Two layers, on purpose:

* Hard constraints (:func:`hard_constraint_failures`) are safety rules. A pair that fails any
  of them is never suggested and never becomes an edge of the batch problem: a co-defendant,
  a victim, a supporter who is not DBS-cleared or is full, is not "a low score", it is "no".
* The score (:func:`score`) only orders pairs that are already safe. Each component is
  normalised to 0..1 and the weights come from ``settings.PEER_MATCHING_WEIGHTS``, so a service
  can tune them without a code change, and every suggestion can say in plain English why it
  was made (:func:`explain`).

The batch matcher has a scalar reference path (the functions above, used for one referral and
for explanations) and a vectorised path (:func:`candidate_graph`, numpy over blocks of
referrals) that computes the very same numbers for 10,000 x 1,000 pairs in about a second. The
tests hold the two paths equal.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

AgeBand = Literal["under_18", "18_24", "25_plus"]
SupporterKind = Literal["worker", "volunteer"]
Objective = Literal["most_matched", "total_score"]
Slot = tuple[str, str]

AGE_BANDS: frozenset[str] = frozenset({"under_18", "18_24", "25_plus"})
SUPPORTER_KINDS: frozenset[str] = frozenset({"worker", "volunteer"})

# Need codes in the order explanations list them, with the words people see.
NEED_LABELS: dict[str, str] = {
    "mental_health": "mental health",
    "learning_disability": "learning disability",
    "autism": "autism",
    "drug_use": "drug use",
    "alcohol": "alcohol",
    "housing": "housing",
    "debt": "debt",
    "domestic_abuse": "domestic abuse",
    "veteran": "military service",
    "other": "other support needs",
}
NEEDS: tuple[str, ...] = tuple(NEED_LABELS)

# English under either spelling a caller is likely to store.
ENGLISH: frozenset[str] = frozenset({"en", "english"})

# --- Hard-constraint reason codes ------------------------------------------------------------
# Codes, not sentences: the caller decides who may read what. "excluded" says only that the
# pair is on the do-not-match list, never why (co-defendant, victim, family...): that stays in
# the person's record, and must not be shown to volunteers at all.
DIFFERENT_SERVICE = "different_service"
NO_CAPACITY = "no_capacity"
PAUSED = "paused"
NOT_READY = "not_ready"
NOT_CLEARED_FOR_UNDER_18 = "not_cleared_for_under_18"
GENDER_PREFERENCE = "gender_preference"
NO_SHARED_LANGUAGE = "no_shared_language"
EXCLUDED = "excluded"

REASON_LABELS: dict[str, str] = {
    DIFFERENT_SERVICE: "works for a different service",
    NO_CAPACITY: "has no free places",
    PAUSED: "has paused taking new people",
    NOT_READY: "DBS check, training or supervision is not up to date",
    NOT_CLEARED_FOR_UNDER_18: "is not cleared to support under-18s",
    GENDER_PREFERENCE: "does not match the person's preferred supporter gender",
    NO_SHARED_LANGUAGE: "does not speak a language the person needs",
    EXCLUDED: "must not be matched with this person",
}

# --- Weights ---------------------------------------------------------------------------------

COMPONENTS: tuple[str, ...] = ("lived_experience", "area", "availability", "interests", "load")

DEFAULT_WEIGHTS: dict[str, float] = {
    "lived_experience": 0.4,
    "area": 0.25,
    "availability": 0.15,
    "interests": 0.1,
    "load": 0.1,
}

# Area component: the supporter covers the person's postcode district, or only its area.
AREA_SAME_DISTRICT = 1.0
AREA_SAME_AREA = 0.5

# Scores become integers for the solver: total (0..1) x SCORE_SCALE, rounded half to even.
SCORE_SCALE = 10_000

# Pairs kept per referral for the batch problem (see match_waiting_list).
DEFAULT_TOP_K = 50

# Referrals scored together in one numpy block: 1,024 x 1,000 supporters x 8 bytes is 8 MB per
# array, which keeps peak memory flat however long the waiting list is.
_BLOCK_ROWS = 1024


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each score component counts. Totals are divided by the sum of the weights, so
    scores stay in 0..1 whatever scale a service types its weights in."""

    lived_experience: float = DEFAULT_WEIGHTS["lived_experience"]
    area: float = DEFAULT_WEIGHTS["area"]
    availability: float = DEFAULT_WEIGHTS["availability"]
    interests: float = DEFAULT_WEIGHTS["interests"]
    load: float = DEFAULT_WEIGHTS["load"]

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name in COMPONENTS]
        for name, value in zip(COMPONENTS, values, strict=True):
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"Matching weight {name!r} must be a number >= 0, not {value!r}")
        if sum(values) <= 0:
            raise ValueError("At least one matching weight must be above 0")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float]) -> Weights:
        """Build from a settings-style dict; a missing component keeps its default, an unknown
        key is an error (a typo would otherwise silently weigh nothing)."""
        unknown = set(mapping) - set(COMPONENTS)
        if unknown:
            raise ValueError(
                f"Unknown matching weight(s) {sorted(unknown)}; expected {list(COMPONENTS)}"
            )
        return cls(**{name: float(mapping[name]) for name in COMPONENTS if name in mapping})

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COMPONENTS}

    @property
    def total(self) -> float:
        return self.lived_experience + self.area + self.availability + self.interests + self.load


def weights_from_settings() -> Weights:
    """``settings.PEER_MATCHING_WEIGHTS`` when Django is configured, else the defaults, so the
    bench and plain scripts can run without a settings module."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:  # pragma: no cover - Django is a dependency of the project
        return Weights()
    try:
        raw = getattr(settings, "PEER_MATCHING_WEIGHTS", None)
    except ImproperlyConfigured:
        return Weights()
    return Weights() if raw is None else Weights.from_mapping(raw)


def _as_weights(weights: Weights | Mapping[str, float] | None) -> Weights:
    if weights is None:
        return weights_from_settings()
    if isinstance(weights, Weights):
        return weights
    return Weights.from_mapping(weights)


# --- The two sides ---------------------------------------------------------------------------


def normalise_district(value: str) -> str:
    """Postcode district ("LS6"), upper case; a full postcode keeps only its outward code."""
    parts = value.strip().upper().split()
    return parts[0] if parts else ""


_AREA = re.compile(r"[A-Z]+")


def postcode_area(district: str) -> str:
    """The letters before the first digit: "LS" for "LS6", "EC" for "EC1A"."""
    found = _AREA.match(normalise_district(district))
    return found.group(0) if found else ""


def _words(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """A person on the waiting list, as the matcher needs to see them (nothing identifying).

    ``excluded_supporter_ids`` is the hard do-not-match list, already expanded by the caller to
    the supporters of anyone this person must not meet. It has no default, so a caller cannot
    forget it silently.
    """

    id: int
    service_id: int
    age_band: AgeBand
    excluded_supporter_ids: frozenset[int]
    gender: str = ""
    preferred_supporter_gender: str | None = None
    languages: frozenset[str] = frozenset({"en"})
    needs_language: bool = False
    home_district: str = ""
    needs: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    availability: frozenset[Slot] = frozenset()

    def __post_init__(self) -> None:
        if self.age_band not in AGE_BANDS:
            raise ValueError(f"age_band must be one of {sorted(AGE_BANDS)}")
        unknown = set(self.needs) - set(NEEDS)
        if unknown:
            raise ValueError(f"Unknown need code(s) {sorted(unknown)}")
        # Normalise once here so every comparison below is a plain set operation.
        object.__setattr__(self, "gender", self.gender.strip().casefold())
        if self.preferred_supporter_gender is not None:
            preferred = self.preferred_supporter_gender.strip().casefold()
            object.__setattr__(self, "preferred_supporter_gender", preferred or None)
        object.__setattr__(self, "languages", _words(self.languages))
        object.__setattr__(self, "interests", _words(self.interests))
        object.__setattr__(self, "home_district", normalise_district(self.home_district))
        object.__setattr__(self, "needs", frozenset(self.needs))
        object.__setattr__(self, "availability", frozenset(self.availability))
        object.__setattr__(self, "excluded_supporter_ids", frozenset(self.excluded_supporter_ids))

    @property
    def required_languages(self) -> frozenset[str]:
        """Languages a supporter must share one of; empty when none is needed.

        Needed when the person speaks no English, or asked for it. When they asked and also
        speak English, it is one of their *other* languages they need: an English speaker would
        not answer the request.
        """
        speaks_english = bool(self.languages & ENGLISH)
        if not self.needs_language and speaks_english:
            return frozenset()
        others = self.languages - ENGLISH
        return others or self.languages


@dataclass(frozen=True, slots=True, kw_only=True)
class Supporter:
    """A peer support worker or volunteer. ``readiness_valid`` (DBS in date, training done,
    supervision not overdue) is computed by the caller, which knows today's date."""

    id: int
    service_ids: frozenset[int]
    kind: SupporterKind
    capacity: int
    active_matches: int
    paused: bool
    readiness_valid: bool
    cleared_for_under_18: bool
    gender: str = ""
    languages: frozenset[str] = frozenset({"en"})
    lived_experience: frozenset[str] = frozenset()
    districts_covered: frozenset[str] = frozenset()
    availability: frozenset[Slot] = frozenset()
    interests: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in SUPPORTER_KINDS:
            raise ValueError(f"kind must be one of {sorted(SUPPORTER_KINDS)}")
        if self.capacity < 0 or self.active_matches < 0:
            raise ValueError("capacity and active_matches cannot be negative")
        unknown = set(self.lived_experience) - set(NEEDS)
        if unknown:
            raise ValueError(f"Unknown need code(s) {sorted(unknown)}")
        object.__setattr__(self, "service_ids", frozenset(self.service_ids))
        object.__setattr__(self, "gender", self.gender.strip().casefold())
        object.__setattr__(self, "languages", _words(self.languages))
        object.__setattr__(self, "interests", _words(self.interests))
        object.__setattr__(self, "lived_experience", frozenset(self.lived_experience))
        object.__setattr__(
            self,
            "districts_covered",
            frozenset(d for d in map(normalise_district, self.districts_covered) if d),
        )
        object.__setattr__(self, "availability", frozenset(self.availability))

    @property
    def free_places(self) -> int:
        return max(self.capacity - self.active_matches, 0)

    @property
    def areas_covered(self) -> frozenset[str]:
        return frozenset(postcode_area(d) for d in self.districts_covered)


# --- Hard constraints ------------------------------------------------------------------------


def hard_constraint_failures(referral: Referral, supporter: Supporter) -> list[str]:
    """Every rule this pair breaks, as reason codes in a fixed order; empty means eligible.

    All failures are listed (not just the first) so staff can see what would have to change.
    """
    failures: list[str] = []
    if referral.service_id not in supporter.service_ids:
        failures.append(DIFFERENT_SERVICE)
    if supporter.active_matches >= supporter.capacity:
        failures.append(NO_CAPACITY)
    if supporter.paused:
        failures.append(PAUSED)
    if not supporter.readiness_valid:
        failures.append(NOT_READY)
    if referral.age_band == "under_18" and not supporter.cleared_for_under_18:
        failures.append(NOT_CLEARED_FOR_UNDER_18)
    preferred = referral.preferred_supporter_gender
    if preferred is not None and supporter.gender != preferred:
        failures.append(GENDER_PREFERENCE)
    required = referral.required_languages
    if required and not (required & supporter.languages):
        failures.append(NO_SHARED_LANGUAGE)
    if supporter.id in referral.excluded_supporter_ids:
        failures.append(EXCLUDED)
    return failures


def is_eligible(referral: Referral, supporter: Supporter) -> bool:
    """Same rules as :func:`hard_constraint_failures`, stopping at the first failure."""
    if referral.service_id not in supporter.service_ids:
        return False
    if supporter.active_matches >= supporter.capacity or supporter.paused:
        return False
    if not supporter.readiness_valid:
        return False
    if referral.age_band == "under_18" and not supporter.cleared_for_under_18:
        return False
    preferred = referral.preferred_supporter_gender
    if preferred is not None and supporter.gender != preferred:
        return False
    required = referral.required_languages
    if required and not (required & supporter.languages):
        return False
    return supporter.id not in referral.excluded_supporter_ids


# --- Score -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    """Each component in 0..1, and the weighted total in 0..1."""

    lived_experience: float
    area: float
    availability: float
    interests: float
    load: float
    total: float

    def components(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COMPONENTS}

    @property
    def scaled(self) -> int:
        """The integer the batch solver optimises."""
        return round(self.total * SCORE_SCALE)


def area_score(home_district: str, supporter: Supporter) -> float:
    """1 when the supporter covers the person's postcode district, 0.5 for the same postcode
    area (same letters: LS6 and LS7), else 0. Districts, not geocoding: good enough to say
    "nearby", and pure."""
    district = normalise_district(home_district)
    if not district:
        return 0.0
    if district in supporter.districts_covered:
        return AREA_SAME_DISTRICT
    if postcode_area(district) in supporter.areas_covered:
        return AREA_SAME_AREA
    return 0.0


def _share(wanted: frozenset, offered: frozenset) -> float:
    """The part of what the person wants that the supporter offers; 0 when they named none."""
    return len(wanted & offered) / len(wanted) if wanted else 0.0


def score(
    referral: Referral, supporter: Supporter, weights: Weights | Mapping[str, float] | None = None
) -> ScoreBreakdown:
    """Weighted score of one pair. It does not check the hard constraints: call it only on
    eligible pairs (as :func:`rank_candidates` does)."""
    w = _as_weights(weights)
    lived = _share(referral.needs, supporter.lived_experience)
    area = area_score(referral.home_district, supporter)
    availability = _share(referral.availability, supporter.availability)
    interests = _share(referral.interests, supporter.interests)
    load = supporter.free_places / supporter.capacity if supporter.capacity else 0.0
    # Same operations in the same order as the vectorised path, so both give identical floats.
    total = (
        w.lived_experience * lived
        + w.area * area
        + w.availability * availability
        + w.interests * interests
        + w.load * load
    ) / w.total
    return ScoreBreakdown(lived, area, availability, interests, load, total)


# --- Explanations ----------------------------------------------------------------------------


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def explain(referral: Referral, supporter: Supporter) -> str:
    """Why this supporter, in plain English, for staff and for the supporter.

    Only what the score used: shared needs (by their plain labels), the district, shared times
    and interests, free places. Never exclusions, gender, age or languages.
    """
    parts: list[str] = []
    shared_needs = [
        NEED_LABELS[n] for n in NEEDS if n in referral.needs & supporter.lived_experience
    ]
    if shared_needs:
        parts.append(f"shares lived experience of {_join(shared_needs)}")
    area = area_score(referral.home_district, supporter)
    if area == AREA_SAME_DISTRICT:
        parts.append(f"covers {referral.home_district}")
    elif area == AREA_SAME_AREA:
        parts.append(f"covers the {postcode_area(referral.home_district)} area")
    if referral.availability:
        common = len(referral.availability & supporter.availability)
        if common:
            parts.append(f"free at {common} of their {len(referral.availability)} times")
    shared_interests = sorted(referral.interests & supporter.interests)
    if shared_interests:
        parts.append(f"also into {_join(shared_interests)}")
    places = "place" if supporter.capacity == 1 else "places"
    parts.append(f"{supporter.free_places} of {supporter.capacity} {places} free")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One supporter suggested for one referral, with the numbers and the words."""

    referral_id: int
    supporter_id: int
    score: ScoreBreakdown
    explanation: str
    free_places: int


def suggest(
    referral: Referral, supporter: Supporter, weights: Weights | Mapping[str, float] | None = None
) -> Suggestion:
    """A :class:`Suggestion` for a pair the caller knows to be eligible."""
    return Suggestion(
        referral_id=referral.id,
        supporter_id=supporter.id,
        score=score(referral, supporter, weights),
        explanation=explain(referral, supporter),
        free_places=supporter.free_places,
    )


# --- Rolling: one referral -------------------------------------------------------------------


def rank_candidates(
    referral: Referral,
    supporters: Iterable[Supporter],
    *,
    weights: Weights | Mapping[str, float] | None = None,
    limit: int | None = 10,
) -> list[Suggestion]:
    """Eligible supporters for one person, best first; ``limit=None`` returns all of them.

    Ties go to the supporter with more free places (spreads the load), then the lower id (so
    the same data always gives the same list). Plain Python: about 5 ms for 1,000 supporters,
    well under the 100 ms a page can afford, so no numpy here.
    """
    w = _as_weights(weights)
    scored = [(score(referral, s, w), s) for s in supporters if is_eligible(referral, s)]
    scored.sort(key=lambda pair: (-pair[0].total, -pair[1].free_places, pair[1].id))
    if limit is not None:
        scored = scored[:limit]
    return [
        Suggestion(
            referral_id=referral.id,
            supporter_id=s.id,
            score=breakdown,
            explanation=explain(referral, s),
            free_places=s.free_places,
        )
        for breakdown, s in scored
    ]


# --- Vectorised candidate generation ---------------------------------------------------------


def _one_hot(rows: Sequence[Iterable], vocab: dict) -> np.ndarray:
    """A rows x vocab 0/1 float matrix; values missing from ``vocab`` are ignored."""
    matrix = np.zeros((len(rows), len(vocab)), dtype=np.float64)
    r_idx: list[int] = []
    c_idx: list[int] = []
    for i, values in enumerate(rows):
        for v in values:
            j = vocab.get(v)
            if j is not None:
                r_idx.append(i)
                c_idx.append(j)
    matrix[r_idx, c_idx] = 1.0
    return matrix


def _vocab(*collections: Iterable[Iterable]) -> dict:
    values: set = set()
    for collection in collections:
        for items in collection:
            values.update(items)
    return {v: i for i, v in enumerate(sorted(values, key=repr))}


@dataclass(frozen=True, slots=True)
class CandidateGraph:
    """Eligible pairs as parallel arrays (indices into the input sequences), sorted by
    referral then supporter, with float totals and the solver's integer scores."""

    referral_index: np.ndarray  # int64
    supporter_index: np.ndarray  # int64
    total: np.ndarray  # float64, 0..1
    scaled: np.ndarray  # int64, round(total * SCORE_SCALE)
    eligible_pairs: int  # before top-K pruning
    top_k: int | None

    def __len__(self) -> int:
        return len(self.referral_index)


class _Blocks:
    """Supporter-side arrays and referral-side encodings shared by the batch functions."""

    def __init__(
        self, referrals: Sequence[Referral], supporters: Sequence[Supporter], weights: Weights
    ) -> None:
        _check_unique_ids(referrals, supporters)
        self.referrals = referrals
        self.supporters = supporters
        self.weights = weights
        m = len(supporters)
        self.free = np.array([s.free_places for s in supporters], dtype=np.int64)
        capacity = np.array([s.capacity for s in supporters], dtype=np.float64)
        self.load = np.divide(
            self.free, capacity, out=np.zeros(m, dtype=np.float64), where=capacity > 0
        )
        self.base_ok = np.array(
            [
                s.active_matches < s.capacity and not s.paused and s.readiness_valid
                for s in supporters
            ],
            dtype=bool,
        )
        self.cleared = np.array([s.cleared_for_under_18 for s in supporters], dtype=bool)
        self.id_to_col = {s.id: j for j, s in enumerate(supporters)}

        # Services: supporter x service, plus an all-False column for unknown services.
        services = _vocab([r.service_id] for r in referrals)
        self.service_idx = np.array([services[r.service_id] for r in referrals], dtype=np.int64)
        self.s_service_t = _one_hot([s.service_ids for s in supporters], services).T.astype(bool)

        genders = _vocab([s.gender] for s in supporters)
        self.s_gender = np.array([genders[s.gender] for s in supporters], dtype=np.int64)
        # -1: no preference; -2: a preference no supporter has (matches nobody).
        self.pref = np.array(
            [
                -1
                if r.preferred_supporter_gender is None
                else genders.get(r.preferred_supporter_gender, -2)
                for r in referrals
            ],
            dtype=np.int64,
        )
        self.under_18 = np.array([r.age_band == "under_18" for r in referrals], dtype=bool)

        languages = _vocab([s.languages for s in supporters])
        required = [r.required_languages for r in referrals]
        self.needs_language = np.array([bool(x) for x in required], dtype=bool)
        self.r_lang = _one_hot(required, languages)
        self.s_lang_t = _one_hot([s.languages for s in supporters], languages).T.copy()

        needs = {n: i for i, n in enumerate(NEEDS)}
        self.r_needs = _one_hot([r.needs for r in referrals], needs)
        self.s_needs_t = _one_hot([s.lived_experience for s in supporters], needs).T.copy()
        self.n_needs = np.array([max(len(r.needs), 1) for r in referrals], dtype=np.float64)

        slots = _vocab([s.availability for s in supporters])
        self.r_avail = _one_hot([r.availability for r in referrals], slots)
        self.s_avail_t = _one_hot([s.availability for s in supporters], slots).T.copy()
        self.n_avail = np.array([max(len(r.availability), 1) for r in referrals], dtype=np.float64)

        interests = _vocab([s.interests for s in supporters])
        self.r_int = _one_hot([r.interests for r in referrals], interests)
        self.s_int_t = _one_hot([s.interests for s in supporters], interests).T.copy()
        self.n_int = np.array([max(len(r.interests), 1) for r in referrals], dtype=np.float64)

        # Districts and areas: supporter coverage as rows of a (vocab + 1) x m table; the last
        # row is all False, for a person whose district (or no district) nobody covers.
        districts = _vocab([s.districts_covered for s in supporters])
        self.s_district = np.vstack(
            [_one_hot([s.districts_covered for s in supporters], districts).T, np.zeros((1, m))]
        ).astype(bool)
        self.district_idx = np.array(
            [districts.get(r.home_district, len(districts)) for r in referrals], dtype=np.int64
        )
        areas = _vocab([s.areas_covered for s in supporters])
        self.s_area = np.vstack(
            [_one_hot([s.areas_covered for s in supporters], areas).T, np.zeros((1, m))]
        ).astype(bool)
        self.area_idx = np.array(
            [
                areas.get(postcode_area(r.home_district), len(areas))
                if r.home_district
                else len(areas)
                for r in referrals
            ],
            dtype=np.int64,
        )

        self.exclusions: list[tuple[int, int]] = [
            (i, self.id_to_col[sid])
            for i, r in enumerate(referrals)
            for sid in r.excluded_supporter_ids
            if sid in self.id_to_col
        ]

    def block(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Eligibility mask and float totals for referrals ``start:stop`` x all supporters."""
        rows = slice(start, stop)
        eligible = self.s_service_t[self.service_idx[rows]] & self.base_ok
        eligible[self.under_18[rows]] &= self.cleared
        pref = self.pref[rows, None]
        eligible &= (pref == -1) | (self.s_gender == pref)
        shared_language = (self.r_lang[rows] @ self.s_lang_t) > 0
        eligible &= ~self.needs_language[rows, None] | shared_language
        for i, j in self.exclusions:
            if start <= i < stop:
                eligible[i - start, j] = False

        w = self.weights
        lived = (self.r_needs[rows] @ self.s_needs_t) / self.n_needs[rows, None]
        area = np.where(
            self.s_district[self.district_idx[rows]],
            AREA_SAME_DISTRICT,
            np.where(self.s_area[self.area_idx[rows]], AREA_SAME_AREA, 0.0),
        )
        availability = (self.r_avail[rows] @ self.s_avail_t) / self.n_avail[rows, None]
        interests = (self.r_int[rows] @ self.s_int_t) / self.n_int[rows, None]
        total = (
            w.lived_experience * lived
            + w.area * area
            + w.availability * availability
            + w.interests * interests
            + w.load * self.load
        ) / w.total
        return eligible, total


def _check_unique_ids(referrals: Sequence[Referral], supporters: Sequence[Supporter]) -> None:
    if len({r.id for r in referrals}) != len(referrals):
        raise ValueError("Referral ids must be unique")
    if len({s.id for s in supporters}) != len(supporters):
        raise ValueError("Supporter ids must be unique")


def candidate_graph(
    referrals: Sequence[Referral],
    supporters: Sequence[Supporter],
    *,
    weights: Weights | Mapping[str, float] | None = None,
    top_k: int | None = DEFAULT_TOP_K,
) -> CandidateGraph:
    """All eligible pairs (or each referral's ``top_k`` best), computed with numpy in blocks
    of referrals, so 10 million pairs never exist as Python objects."""
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be at least 1, or None for every eligible pair")
    blocks = _Blocks(referrals, supporters, _as_weights(weights))
    return _candidate_graph(blocks, top_k)


def _candidate_graph(blocks: _Blocks, top_k: int | None) -> CandidateGraph:
    n, m = len(blocks.referrals), len(blocks.supporters)
    parts_r: list[np.ndarray] = []
    parts_s: list[np.ndarray] = []
    parts_t: list[np.ndarray] = []
    eligible_pairs = 0
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        eligible, total = blocks.block(start, stop)
        eligible_pairs += int(eligible.sum())
        if top_k is not None and top_k < m:
            # Keep the top_k scores of each row among eligible pairs (ties at the cut-off go
            # whichever way argpartition puts them: deterministic for the same input).
            masked = np.where(eligible, total, -1.0)
            top = np.argpartition(-masked, top_k - 1, axis=1)[:, :top_k]
            keep = np.zeros_like(eligible)
            np.put_along_axis(keep, top, True, axis=1)
            eligible &= keep
        r, s = np.nonzero(eligible)
        parts_r.append(r + start)
        parts_s.append(s)
        parts_t.append(total[r, s])
    empty_i = np.zeros(0, dtype=np.int64)
    referral_index = np.concatenate(parts_r).astype(np.int64) if parts_r else empty_i
    supporter_index = np.concatenate(parts_s).astype(np.int64) if parts_s else empty_i
    totals = np.concatenate(parts_t) if parts_t else np.zeros(0, dtype=np.float64)
    return CandidateGraph(
        referral_index=referral_index,
        supporter_index=supporter_index,
        total=totals,
        scaled=np.rint(totals * SCORE_SCALE).astype(np.int64),
        eligible_pairs=eligible_pairs,
        top_k=top_k,
    )


# --- Batch: the whole waiting list -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Who gets whom. ``assignments`` maps referral id to its :class:`Suggestion` (which names
    the supporter and says why); ``unassigned`` keeps the input order."""

    assignments: dict[int, Suggestion]
    unassigned: tuple[int, ...]
    total_score: float
    build_seconds: float
    solver_seconds: float
    candidate_pairs: int
    eligible_pairs: int
    objective: str
    method: str
    pairs: dict[int, int] = field(default_factory=dict)

    @property
    def matched(self) -> int:
        return len(self.assignments)

    @property
    def total_scaled(self) -> int:
        """Sum of the integer scores the solver optimised."""
        return sum(s.score.scaled for s in self.assignments.values())


def _result(
    referrals: Sequence[Referral],
    supporters: Sequence[Supporter],
    chosen: dict[int, int],
    weights: Weights,
    *,
    build_seconds: float,
    solver_seconds: float,
    candidate_pairs: int,
    eligible_pairs: int,
    objective: str,
    method: str,
) -> BatchResult:
    """Turn referral index -> supporter index into suggestions, rebuilt by the scalar path so
    explanations and totals are exactly what :func:`rank_candidates` would show."""
    assignments = {
        referrals[i].id: suggest(referrals[i], supporters[j], weights)
        for i, j in sorted(chosen.items())
    }
    return BatchResult(
        assignments=assignments,
        unassigned=tuple(r.id for i, r in enumerate(referrals) if i not in chosen),
        total_score=math.fsum(s.score.total for s in assignments.values()),
        build_seconds=build_seconds,
        solver_seconds=solver_seconds,
        candidate_pairs=candidate_pairs,
        eligible_pairs=eligible_pairs,
        objective=objective,
        method=method,
        pairs={rid: s.supporter_id for rid, s in assignments.items()},
    )


def match_waiting_list(
    referrals: Sequence[Referral],
    supporters: Sequence[Supporter],
    *,
    weights: Weights | Mapping[str, float] | None = None,
    top_k: int | None = DEFAULT_TOP_K,
    objective: Objective = "most_matched",
) -> BatchResult:
    """Assign the waiting list at once, optimally for the objective under capacities.

    Objective ``"most_matched"`` (the default): first as many people matched as possible, then
    the highest total score among those assignments. Every assignment is worth a bonus larger
    than any possible sum of scores, so one more person matched always outweighs better scores
    for everyone else: an unmatched person gets no support at all, a slightly weaker match
    still gets someone to the appointment. ``"total_score"`` maximises the sum of scores alone
    (it may leave someone unmatched to give another a better supporter).

    The problem: referrals on one side; each supporter expanded into ``free_places`` identical
    slots on the other; one "unassigned" column per referral, so a person with no eligible
    supporter never makes the problem infeasible. Only eligible pairs are edges. SciPy's
    ``min_weight_full_bipartite_matching`` (LAPJVsp) solves it exactly with integer costs
    (score x SCORE_SCALE), so the result is optimal over the candidate graph.

    ``top_k`` keeps each referral's best ``top_k`` eligible supporters (default 50) to bound the
    graph; ``None`` keeps every eligible pair (then optimal over all pairs, slower). Pruning can
    only lose when more than ``top_k`` of a person's better supporters are all taken; the tests
    and ``bench/matching.py`` measure the gap against the unpruned optimum.
    """
    if objective not in ("most_matched", "total_score"):
        raise ValueError("objective must be 'most_matched' or 'total_score'")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be at least 1, or None for every eligible pair")
    w = _as_weights(weights)
    started = time.perf_counter()
    n = len(referrals)
    blocks = _Blocks(referrals, supporters, w)
    graph = _candidate_graph(blocks, top_k)
    matrix, slot_owner = _assignment_matrix(graph, blocks.free, n, objective)
    built = time.perf_counter()
    chosen: dict[int, int] = {}
    if n:
        rows, cols = min_weight_full_bipartite_matching(matrix)
        real = cols < len(slot_owner)
        chosen = dict(zip(rows[real].tolist(), slot_owner[cols[real]].tolist(), strict=True))
    solved = time.perf_counter()
    return _result(
        referrals,
        supporters,
        chosen,
        w,
        build_seconds=built - started,
        solver_seconds=solved - built,
        candidate_pairs=len(graph),
        eligible_pairs=graph.eligible_pairs,
        objective=objective,
        method="scipy.sparse.csgraph.min_weight_full_bipartite_matching",
    )


def _assignment_matrix(
    graph: CandidateGraph, free: np.ndarray, n: int, objective: Objective
) -> tuple[csr_matrix, np.ndarray]:
    """The sparse cost matrix: n referral rows x (slots + n unassigned columns).

    Costs are positive (a sparse zero would mean "no edge"): an edge costs
    ``1 + SCORE_SCALE - scaled`` (1 for a perfect score), an unassigned column
    ``1 + SCORE_SCALE + bonus``. Minimising the total cost is maximising
    ``bonus x matched + sum of scaled scores``; with ``bonus = (n + 1) x SCORE_SCALE``, more
    than any sum of scores, that is "most matched, then best scores". All values stay below
    2**53, so float64 costs are exact integers.
    """
    ref, sup, scaled = graph.referral_index, graph.supporter_index, graph.scaled
    # A supporter needs no more slots than the referrals that could take one.
    degree = np.bincount(sup, minlength=len(free))
    slots = np.minimum(free, degree)
    offset = np.concatenate([[0], np.cumsum(slots)])
    slot_owner = np.repeat(np.arange(len(free)), slots)
    n_slots = int(offset[-1])

    # Every edge (r, s) becomes an edge to each of s's slots; edges stay grouped by referral
    # (the graph is sorted by referral, then supporter), so the CSR arrays are built directly.
    per_edge = slots[sup]
    n_edges = int(per_edge.sum())
    first = np.cumsum(per_edge) - per_edge
    within = np.arange(n_edges) - np.repeat(first, per_edge)
    rows = np.repeat(ref, per_edge)
    cols = offset[np.repeat(sup, per_edge)] + within
    costs = (1 + SCORE_SCALE - np.repeat(scaled, per_edge)).astype(np.float64)

    bonus = (n + 1) * SCORE_SCALE if objective == "most_matched" else 0
    counts = np.bincount(rows, minlength=n) + 1  # + the referral's unassigned column
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.empty(n_edges + n, dtype=np.int64)
    data = np.empty(n_edges + n, dtype=np.float64)
    # Row r's edges sit at their position in `rows` shifted by r (one unassigned column for
    # each earlier row); its unassigned column is the last entry of the row.
    position = np.arange(n_edges) + rows
    indices[position] = cols
    data[position] = costs
    indices[indptr[1:] - 1] = n_slots + np.arange(n)
    data[indptr[1:] - 1] = float(1 + SCORE_SCALE + bonus)
    matrix = csr_matrix((data, indices, indptr), shape=(n, n_slots + n))
    return matrix, slot_owner


def match_greedy(
    referrals: Sequence[Referral],
    supporters: Sequence[Supporter],
    *,
    weights: Weights | Mapping[str, float] | None = None,
) -> BatchResult:
    """The baseline: each referral in list order takes its best supporter who still has a
    place (the :func:`rank_candidates` order, over every eligible pair). What a coordinator
    working down the list would do; the batch matcher is measured against it."""
    w = _as_weights(weights)
    started = time.perf_counter()
    blocks = _Blocks(referrals, supporters, w)
    remaining = blocks.free.copy()
    # rank_candidates' tie-break as one number: more free places first, then lower id.
    order = sorted(
        range(len(supporters)), key=lambda j: (-supporters[j].free_places, supporters[j].id)
    )
    tie_rank = np.empty(len(supporters), dtype=np.int64)
    tie_rank[order] = np.arange(len(supporters))
    chosen: dict[int, int] = {}
    eligible_pairs = 0
    for start in range(0, len(referrals), _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, len(referrals))
        eligible, total = blocks.block(start, stop)
        eligible_pairs += int(eligible.sum())
        for i in range(stop - start):
            candidates = np.flatnonzero(eligible[i] & (remaining > 0))
            if not len(candidates):
                continue
            best = candidates[np.lexsort((tie_rank[candidates], -total[i, candidates]))[0]]
            chosen[start + i] = int(best)
            remaining[best] -= 1
    finished = time.perf_counter()
    return _result(
        referrals,
        supporters,
        chosen,
        w,
        build_seconds=0.0,
        solver_seconds=finished - started,
        candidate_pairs=eligible_pairs,
        eligible_pairs=eligible_pairs,
        objective="greedy",
        method="greedy",
    )


__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "NEED_LABELS",
    "REASON_LABELS",
    "SCORE_SCALE",
    "BatchResult",
    "CandidateGraph",
    "Referral",
    "ScoreBreakdown",
    "Suggestion",
    "Supporter",
    "Weights",
    "area_score",
    "candidate_graph",
    "explain",
    "hard_constraint_failures",
    "is_eligible",
    "match_greedy",
    "match_waiting_list",
    "postcode_area",
    "rank_candidates",
    "score",
    "suggest",
    "weights_from_settings",
]
