"""The matching engine: hard rules, score, explanations, ranking and the batch solver.

Pure functions, so no database: these run in milliseconds. The batch solver is checked
against a brute-force optimum on tiny instances, and the vectorised scorer against the
scalar one on random ones.
"""

from __future__ import annotations

import dataclasses
import random
import re
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peer_support import matching
from peer_support.matching import (
    DEFAULT_WEIGHTS,
    NEEDS,
    SCORE_SCALE,
    Referral,
    Supporter,
    Weights,
    area_score,
    candidate_graph,
    explain,
    hard_constraint_failures,
    is_eligible,
    match_greedy,
    match_waiting_list,
    postcode_area,
    rank_candidates,
    score,
    weights_from_settings,
)

W = Weights()


def make_referral(**overrides) -> Referral:
    values = {
        "id": 1,
        "service_id": 1,
        "age_band": "25_plus",
        "excluded_supporter_ids": frozenset(),
        "home_district": "LS6",
    }
    return Referral(**(values | overrides))


def make_supporter(**overrides) -> Supporter:
    values = {
        "id": 10,
        "service_ids": frozenset({1}),
        "kind": "volunteer",
        "capacity": 2,
        "active_matches": 0,
        "paused": False,
        "readiness_valid": True,
        "cleared_for_under_18": False,
        "districts_covered": frozenset({"LS6"}),
    }
    return Supporter(**(values | overrides))


# --- Hard constraints ------------------------------------------------------------------------


def test_an_ordinary_pair_is_eligible():
    assert hard_constraint_failures(make_referral(), make_supporter()) == []
    assert is_eligible(make_referral(), make_supporter())


@pytest.mark.parametrize(
    ("referral", "supporter", "code"),
    [
        ({"service_id": 2}, {}, "different_service"),
        ({}, {"capacity": 2, "active_matches": 2}, "no_capacity"),
        ({}, {"capacity": 0}, "no_capacity"),
        ({}, {"paused": True}, "paused"),
        ({}, {"readiness_valid": False}, "not_ready"),
        ({"age_band": "under_18"}, {"cleared_for_under_18": False}, "not_cleared_for_under_18"),
        ({"preferred_supporter_gender": "female"}, {"gender": "male"}, "gender_preference"),
        ({"preferred_supporter_gender": "female"}, {"gender": ""}, "gender_preference"),
        ({"languages": frozenset({"pl"})}, {"languages": frozenset({"en"})}, "no_shared_language"),
        (
            {"languages": frozenset({"en", "ur"}), "needs_language": True},
            {"languages": frozenset({"en"})},
            "no_shared_language",
        ),
        ({"excluded_supporter_ids": frozenset({10})}, {}, "excluded"),
    ],
)
def test_each_hard_rule_refuses_with_its_own_reason_code(referral, supporter, code):
    r, s = make_referral(**referral), make_supporter(**supporter)
    assert hard_constraint_failures(r, s) == [code]
    assert not is_eligible(r, s)


@pytest.mark.parametrize(
    ("referral", "supporter"),
    [
        ({"age_band": "under_18"}, {"cleared_for_under_18": True}),
        ({"age_band": "18_24"}, {"cleared_for_under_18": False}),
        ({"preferred_supporter_gender": "Female "}, {"gender": "female"}),
        ({"preferred_supporter_gender": None}, {"gender": "male"}),
        ({"languages": frozenset({"pl"})}, {"languages": frozenset({"en", "PL"})}),
        ({"languages": frozenset({"English", "pl"})}, {"languages": frozenset({"en"})}),
        (
            {"languages": frozenset({"en", "ur"}), "needs_language": True},
            {"languages": frozenset({"en", "ur"})},
        ),
        ({"service_id": 2}, {"service_ids": frozenset({1, 2})}),
        ({"excluded_supporter_ids": frozenset({11})}, {"id": 10}),
    ],
)
def test_rules_pass_when_met(referral, supporter):
    assert hard_constraint_failures(make_referral(**referral), make_supporter(**supporter)) == []


def test_every_broken_rule_is_listed_in_a_fixed_order():
    referral = make_referral(
        service_id=2,
        age_band="under_18",
        preferred_supporter_gender="female",
        languages=frozenset({"so"}),
        excluded_supporter_ids=frozenset({10}),
    )
    supporter = make_supporter(
        gender="male", capacity=1, active_matches=1, paused=True, readiness_valid=False
    )
    assert hard_constraint_failures(referral, supporter) == [
        "different_service",
        "no_capacity",
        "paused",
        "not_ready",
        "not_cleared_for_under_18",
        "gender_preference",
        "no_shared_language",
        "excluded",
    ]


def test_every_reason_code_has_a_staff_label_that_does_not_say_why_someone_is_excluded():
    codes = {c for c in vars(matching).values() if isinstance(c, str)} & set(
        matching.REASON_LABELS
    )
    assert len(codes) == 8
    label = matching.REASON_LABELS["excluded"].lower()
    for word in ("defendant", "victim", "family", "known", "perpetrator"):
        assert word not in label


@pytest.mark.parametrize(
    ("field", "value"),
    [("age_band", "adult"), ("needs", frozenset({"gambling"}))],
)
def test_a_referral_with_unknown_codes_is_refused(field, value):
    with pytest.raises(ValueError):
        make_referral(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "manager"), ("capacity", -1), ("lived_experience", frozenset({"gambling"}))],
)
def test_a_supporter_with_unknown_codes_or_negative_capacity_is_refused(field, value):
    with pytest.raises(ValueError):
        make_supporter(**{field: value})


# --- Area ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("district", "area"),
    [("LS6", "LS"), ("ls6", "LS"), ("EC1A", "EC"), ("M1", "M"), ("LS6 1AB", "LS"), ("", "")],
)
def test_postcode_area_is_the_letters_before_the_digits(district, area):
    assert postcode_area(district) == area


@pytest.mark.parametrize(
    ("home", "covered", "expected"),
    [
        ("LS6", {"LS6"}, 1.0),
        ("ls6 1ab", {"LS6"}, 1.0),
        ("LS6", {"LS7", "BD1"}, 0.5),
        ("EC1A", {"EC2"}, 0.5),
        ("LS6", {"L6"}, 0.0),
        ("M1", {"LS6"}, 0.0),
        ("", {"LS6"}, 0.0),
        ("LS6", set(), 0.0),
    ],
)
def test_area_scores_district_fully_and_postcode_area_partly(home, covered, expected):
    assert area_score(home, make_supporter(districts_covered=frozenset(covered))) == expected


# --- Score -----------------------------------------------------------------------------------


def test_score_components_are_shares_of_what_the_person_wants():
    referral = make_referral(
        needs=frozenset({"housing", "alcohol", "debt", "autism"}),
        availability=frozenset({("mon", "am"), ("tue", "pm")}),
        interests=frozenset({"football", "music", "art"}),
        home_district="LS7",
    )
    supporter = make_supporter(
        lived_experience=frozenset({"housing", "alcohol", "veteran"}),
        availability=frozenset({("mon", "am"), ("sun", "pm")}),
        interests=frozenset({"Football"}),
        districts_covered=frozenset({"LS6"}),
        capacity=4,
        active_matches=1,
    )
    breakdown = score(referral, supporter, W)
    assert breakdown.components() == {
        "lived_experience": 0.5,
        "area": 0.5,
        "availability": 0.5,
        "interests": pytest.approx(1 / 3),
        "load": 0.75,
    }
    expected = 0.4 * 0.5 + 0.25 * 0.5 + 0.15 * 0.5 + 0.1 / 3 + 0.1 * 0.75
    assert breakdown.total == pytest.approx(expected)


def test_a_person_who_named_nothing_scores_zero_on_those_components():
    breakdown = score(make_referral(home_district=""), make_supporter(capacity=1), W)
    assert (breakdown.lived_experience, breakdown.area, breakdown.availability) == (0, 0, 0)
    assert breakdown.interests == 0
    assert breakdown.load == 1.0
    assert breakdown.total == pytest.approx(0.1)


def test_only_the_proportions_of_the_weights_matter():
    r = make_referral(needs=frozenset({"housing"}))
    s = make_supporter(lived_experience=frozenset({"housing"}), districts_covered=frozenset())
    doubled = Weights(**{k: 2 * v for k, v in DEFAULT_WEIGHTS.items()})
    assert score(r, s, doubled).total == pytest.approx(score(r, s, W).total)


@pytest.mark.parametrize(
    "mapping",
    [{"lived_experiance": 0.4}, {"area": -0.1}, {"load": float("nan")}]
    + [dict.fromkeys(DEFAULT_WEIGHTS, 0)],
)
def test_bad_weights_are_refused(mapping):
    with pytest.raises(ValueError):
        Weights.from_mapping(mapping)


def test_weights_come_from_settings(settings):
    settings.PEER_MATCHING_WEIGHTS = {"lived_experience": 1.0, "area": 0.0}
    weights = weights_from_settings()
    assert weights.lived_experience == 1.0
    assert weights.area == 0.0
    assert weights.load == DEFAULT_WEIGHTS["load"]  # missing keys keep their default


def test_weights_fall_back_to_defaults_without_the_setting(settings):
    del settings.PEER_MATCHING_WEIGHTS
    assert weights_from_settings() == Weights()


def test_the_settings_module_ships_the_default_weights():
    from portal.settings import base

    assert base.PEER_MATCHING_WEIGHTS == DEFAULT_WEIGHTS


# --- Explanations ----------------------------------------------------------------------------


def test_explanation_reads_as_plain_english():
    referral = make_referral(
        needs=frozenset({"housing", "alcohol", "drug_use"}),
        availability=frozenset({("mon", "am"), ("tue", "pm"), ("wed", "am"), ("thu", "am")}),
        interests=frozenset({"football"}),
    )
    supporter = make_supporter(
        lived_experience=frozenset({"housing", "alcohol"}),
        availability=frozenset({("mon", "am"), ("tue", "pm")}),
        interests=frozenset({"football", "music"}),
        capacity=4,
        active_matches=2,
    )
    assert explain(referral, supporter) == (
        "shares lived experience of alcohol and housing; covers LS6; "
        "free at 2 of their 4 times; also into football; 2 of 4 places free"
    )


@pytest.mark.parametrize(
    ("needs", "phrase"),
    [
        ({"mental_health"}, "shares lived experience of mental health"),
        ({"drug_use", "learning_disability"}, "learning disability and drug use"),
        ({"veteran", "debt", "autism"}, "autism, debt and military service"),
    ],
)
def test_explanation_uses_plain_labels_for_needs(needs, phrase):
    r = make_referral(needs=frozenset(needs))
    assert phrase in explain(r, make_supporter(lived_experience=frozenset(needs)))


def test_explanation_names_the_area_when_the_district_is_not_covered():
    text = explain(make_referral(home_district="LS9"), make_supporter(capacity=1))
    assert text == "covers the LS area; 1 of 1 place free"


def test_explanation_never_mentions_exclusions_gender_age_or_language():
    referral = make_referral(
        gender="female",
        preferred_supporter_gender="female",
        age_band="under_18",
        languages=frozenset({"pl"}),
        excluded_supporter_ids=frozenset({99}),
    )
    supporter = make_supporter(
        gender="female", languages=frozenset({"pl", "en"}), cleared_for_under_18=True
    )
    [suggestion] = rank_candidates(referral, [supporter], weights=W)
    words = set(re.findall(r"[\w-]+", suggestion.explanation.lower()))
    assert words == {"covers", "ls6", "2", "of", "places", "free"}
    assert not words & {"excluded", "female", "under-18", "pl", "polish", "language", "99"}


# --- Rolling ---------------------------------------------------------------------------------


def test_rank_candidates_drops_ineligible_supporters_and_orders_by_score():
    referral = make_referral(needs=frozenset({"housing"}))
    supporters = [
        make_supporter(id=1, lived_experience=frozenset({"housing"})),
        make_supporter(id=2),
        make_supporter(id=3, lived_experience=frozenset({"housing"}), paused=True),
        make_supporter(id=4, districts_covered=frozenset({"M1"})),
    ]
    ranked = rank_candidates(referral, supporters, weights=W)
    assert [s.supporter_id for s in ranked] == [1, 2, 4]
    assert ranked[0].score.total > ranked[1].score.total > ranked[2].score.total
    assert all(s.referral_id == referral.id for s in ranked)


def test_rank_candidates_breaks_ties_by_free_places_then_supporter_id():
    # Load weight 0 so free places do not change the score, only the tie-break.
    weights = Weights(load=0)
    supporters = [
        make_supporter(id=5, capacity=3, active_matches=2),
        make_supporter(id=3, capacity=3, active_matches=0),
        make_supporter(id=4, capacity=3, active_matches=0),
        make_supporter(id=1, capacity=3, active_matches=1),
    ]
    ranked = rank_candidates(make_referral(), supporters, weights=weights)
    assert [s.supporter_id for s in ranked] == [3, 4, 1, 5]


@pytest.mark.parametrize(("limit", "expected"), [(2, 2), (10, 5), (None, 5)])
def test_rank_candidates_returns_at_most_limit(limit, expected):
    supporters = [make_supporter(id=i) for i in range(5)]
    assert len(rank_candidates(make_referral(), supporters, weights=W, limit=limit)) == expected


# --- Batch -----------------------------------------------------------------------------------


def _objective_example() -> tuple[list[Referral], list[Supporter], Weights]:
    """A (first in the list) fits X very well and Y badly; B can only have X."""
    weights = Weights(lived_experience=1, area=0, availability=0, interests=0, load=0)
    a = make_referral(id=1, needs=frozenset({"housing"}))
    b = make_referral(id=2, needs=frozenset({"housing", "debt"}), excluded_supporter_ids={21})
    x = make_supporter(id=20, capacity=1, lived_experience=frozenset({"housing"}))
    y = make_supporter(id=21, capacity=1)
    return [a, b], [x, y], weights


def test_most_matched_objective_matches_one_more_person_rather_than_a_better_score():
    referrals, supporters, weights = _objective_example()
    result = match_waiting_list(referrals, supporters, weights=weights)
    assert result.pairs == {1: 21, 2: 20}
    assert result.unassigned == ()
    assert result.total_score == pytest.approx(0.5)


def test_total_score_objective_may_leave_someone_unmatched_for_a_better_score():
    referrals, supporters, weights = _objective_example()
    result = match_waiting_list(referrals, supporters, weights=weights, objective="total_score")
    assert result.pairs == {1: 20}
    assert result.unassigned == (2,)
    assert result.total_score == pytest.approx(1.0)


def test_greedy_takes_each_persons_best_in_list_order():
    referrals, supporters, weights = _objective_example()
    result = match_greedy(referrals, supporters, weights=weights)
    assert result.pairs == {1: 20}
    assert result.unassigned == (2,)


def test_a_person_nobody_may_support_stays_unassigned_without_blocking_the_rest():
    referrals = [
        make_referral(id=1, service_id=9),
        make_referral(id=2, age_band="under_18"),
        make_referral(id=3),
    ]
    result = match_waiting_list(referrals, [make_supporter(id=10)], weights=W)
    assert result.pairs == {3: 10}
    assert result.unassigned == (1, 2)


def test_a_supporter_takes_no_more_people_than_free_places():
    referrals = [make_referral(id=i) for i in range(1, 6)]
    supporters = [make_supporter(id=10, capacity=3, active_matches=1), make_supporter(id=11)]
    result = match_waiting_list(referrals, supporters, weights=W)
    taken = list(result.pairs.values())
    assert taken.count(10) == 2
    assert taken.count(11) == 2
    assert len(result.unassigned) == 1


def test_assignments_carry_the_same_suggestion_as_rank_candidates():
    referral = make_referral(needs=frozenset({"housing"}), interests=frozenset({"music"}))
    supporter = make_supporter(lived_experience=frozenset({"housing"}))
    result = match_waiting_list([referral], [supporter], weights=W)
    assert result.assignments[referral.id] == rank_candidates(referral, [supporter], weights=W)[0]


def test_empty_inputs_give_an_empty_result():
    assert match_waiting_list([], [make_supporter()], weights=W).matched == 0
    result = match_waiting_list([make_referral()], [], weights=W)
    assert result.unassigned == (1,)
    assert match_greedy([], [], weights=W).matched == 0


@pytest.mark.parametrize(
    ("referrals", "supporters"),
    [
        ([make_referral(id=1), make_referral(id=1)], [make_supporter()]),
        ([make_referral()], [make_supporter(id=2), make_supporter(id=2)]),
    ],
)
def test_duplicate_ids_are_refused(referrals, supporters):
    with pytest.raises(ValueError, match="unique"):
        match_waiting_list(referrals, supporters, weights=W)


@pytest.mark.parametrize("kwargs", [{"top_k": 0}, {"objective": "fastest"}])
def test_bad_batch_options_are_refused(kwargs):
    with pytest.raises(ValueError):
        match_waiting_list([make_referral()], [make_supporter()], weights=W, **kwargs)


# --- Properties ------------------------------------------------------------------------------

GENDERS = ["female", "male", "non-binary"]
LANGUAGES = ["en", "pl", "ur"]
DISTRICTS = ["LS6", "LS7", "M1", "M14", "BD1"]
SLOTS = [("mon", "am"), ("mon", "pm"), ("tue", "am"), ("sat", "eve")]
INTERESTS = ["football", "music", "art"]


def subsets(values):
    return st.frozensets(st.sampled_from(values), max_size=len(values))


@st.composite
def supporters_st(draw, max_size=6):
    count = draw(st.integers(0, max_size))
    result = []
    for sid in range(1, count + 1):
        capacity = draw(st.integers(0, 3))
        result.append(
            Supporter(
                id=sid,
                service_ids=draw(st.frozensets(st.sampled_from([1, 2]), min_size=1)),
                kind=draw(st.sampled_from(["worker", "volunteer"])),
                capacity=capacity,
                active_matches=draw(st.integers(0, capacity + 1)),
                paused=draw(st.booleans()),
                readiness_valid=draw(st.integers(0, 4)) > 0,
                cleared_for_under_18=draw(st.booleans()),
                gender=draw(st.sampled_from(GENDERS)),
                languages=draw(st.frozensets(st.sampled_from(LANGUAGES), min_size=1)),
                lived_experience=draw(subsets(NEEDS[:5])),
                districts_covered=draw(subsets(DISTRICTS)),
                availability=draw(subsets(SLOTS)),
                interests=draw(subsets(INTERESTS)),
            )
        )
    return result


@st.composite
def referrals_st(draw, max_size=8, max_supporter_id=6):
    count = draw(st.integers(0, max_size))
    return [
        Referral(
            id=rid,
            service_id=draw(st.sampled_from([1, 2])),
            age_band=draw(st.sampled_from(["under_18", "18_24", "25_plus"])),
            excluded_supporter_ids=draw(subsets(list(range(1, max_supporter_id + 1)))),
            gender=draw(st.sampled_from(GENDERS)),
            preferred_supporter_gender=draw(st.none() | st.sampled_from(GENDERS)),
            languages=draw(st.frozensets(st.sampled_from(LANGUAGES), min_size=1)),
            needs_language=draw(st.booleans()),
            home_district=draw(st.sampled_from([*DISTRICTS, "LS9", "S1", ""])),
            needs=draw(subsets(NEEDS[:5])),
            interests=draw(subsets(INTERESTS)),
            availability=draw(subsets(SLOTS)),
        )
        for rid in range(100, 100 + count)
    ]


PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(referrals=referrals_st(), supporters=supporters_st())
def test_vectorised_candidates_equal_the_scalar_rules_and_scores(referrals, supporters):
    graph = candidate_graph(referrals, supporters, weights=W, top_k=None)
    got = {
        (referrals[i].id, supporters[j].id): t
        for i, j, t in zip(graph.referral_index, graph.supporter_index, graph.total, strict=True)
    }
    expected = {
        (r.id, s.id): score(r, s, W).total
        for r in referrals
        for s in supporters
        if hard_constraint_failures(r, s) == []
    }
    assert got.keys() == expected.keys()
    for pair, total in expected.items():
        assert got[pair] == pytest.approx(total, abs=1e-12)
    assert graph.eligible_pairs == len(expected)


@PROPERTY
@given(referrals=referrals_st(), supporters=supporters_st())
def test_is_eligible_agrees_with_the_list_of_failures(referrals, supporters):
    for r, s in product(referrals, supporters):
        assert is_eligible(r, s) == (hard_constraint_failures(r, s) == [])


@PROPERTY
@given(
    referrals=referrals_st(),
    supporters=supporters_st(),
    top_k=st.none() | st.integers(1, 3),
    objective=st.sampled_from(["most_matched", "total_score"]),
)
def test_batch_never_breaks_a_hard_rule_or_a_capacity(referrals, supporters, top_k, objective):
    result = match_waiting_list(referrals, supporters, weights=W, top_k=top_k, objective=objective)
    by_id = {s.id: s for s in supporters}
    for r in referrals:
        if r.id in result.pairs:
            assert hard_constraint_failures(r, by_id[result.pairs[r.id]]) == []
    for s in supporters:
        assert list(result.pairs.values()).count(s.id) <= s.free_places
    assert set(result.pairs) | set(result.unassigned) == {r.id for r in referrals}
    assert not set(result.pairs) & set(result.unassigned)


@PROPERTY
@given(referrals=referrals_st(), supporters=supporters_st())
def test_every_assigned_pair_is_in_the_ranked_candidates(referrals, supporters):
    result = match_waiting_list(referrals, supporters, weights=W)
    for r in referrals:
        if r.id in result.pairs:
            ranked = rank_candidates(r, supporters, weights=W, limit=None)
            assert result.assignments[r.id] in ranked


@PROPERTY
@given(referrals=referrals_st(), supporters=supporters_st())
def test_batch_is_never_worse_than_greedy(referrals, supporters):
    greedy = match_greedy(referrals, supporters, weights=W)
    most = match_waiting_list(referrals, supporters, weights=W, top_k=None)
    assert (most.matched, most.total_scaled) >= (greedy.matched, greedy.total_scaled)
    best = match_waiting_list(
        referrals, supporters, weights=W, top_k=None, objective="total_score"
    )
    assert best.total_scaled >= greedy.total_scaled


def brute_force(referrals, supporters, objective):
    """Every feasible assignment of a tiny instance; the best objective value."""
    remaining = {s.id: s.free_places for s in supporters}

    def best_from(i):
        if i == len(referrals):
            return (0, 0)
        r = referrals[i]
        options = [best_from(i + 1)]
        for s in supporters:
            if remaining[s.id] > 0 and is_eligible(r, s):
                remaining[s.id] -= 1
                count, total = best_from(i + 1)
                remaining[s.id] += 1
                options.append((count + 1, total + score(r, s, W).scaled))
        key = (lambda v: v) if objective == "most_matched" else (lambda v: v[1])
        return max(options, key=key)

    return best_from(0)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    referrals=referrals_st(max_size=5, max_supporter_id=3),
    supporters=supporters_st(max_size=3),
    objective=st.sampled_from(["most_matched", "total_score"]),
)
def test_batch_finds_the_brute_force_optimum(referrals, supporters, objective):
    result = match_waiting_list(referrals, supporters, weights=W, top_k=None, objective=objective)
    count, total = brute_force(referrals, supporters, objective)
    if objective == "most_matched":
        assert (result.matched, result.total_scaled) == (count, total)
    else:
        assert result.total_scaled == total


# --- Pruning ---------------------------------------------------------------------------------


def seeded_population(seed: int, n_referrals: int, n_supporters: int):
    rng = random.Random(seed)
    supporters = [
        Supporter(
            id=sid,
            service_ids=frozenset({rng.choice([1, 2])}),
            kind="volunteer",
            capacity=(capacity := rng.randint(1, 4)),
            active_matches=rng.randint(0, capacity),
            paused=rng.random() < 0.1,
            readiness_valid=rng.random() > 0.1,
            cleared_for_under_18=rng.random() < 0.3,
            gender=rng.choice(GENDERS),
            lived_experience=frozenset(rng.sample(NEEDS, 2)),
            districts_covered=frozenset(rng.sample(DISTRICTS, 2)),
            availability=frozenset(rng.sample(SLOTS, 2)),
            interests=frozenset(rng.sample(INTERESTS, 1)),
        )
        for sid in range(1, n_supporters + 1)
    ]
    referrals = [
        Referral(
            id=rid,
            service_id=rng.choice([1, 2]),
            age_band=rng.choice(["under_18", "18_24", "25_plus", "25_plus"]),
            excluded_supporter_ids=frozenset(),
            preferred_supporter_gender=rng.choice([None, None, None, "female"]),
            home_district=rng.choice(DISTRICTS),
            needs=frozenset(rng.sample(NEEDS, 2)),
            availability=frozenset(rng.sample(SLOTS, 2)),
            interests=frozenset(rng.sample(INTERESTS, 1)),
        )
        for rid in range(1, n_referrals + 1)
    ]
    return referrals, supporters


def test_pruning_to_the_top_k_stays_close_to_the_unpruned_optimum():
    # 300 people, 60 supporters (about 25 eligible each): keeping the best 10 per person
    # matches as many people as the full problem and loses under 1% of the total score.
    referrals, supporters = seeded_population(7, 300, 60)
    exact = match_waiting_list(referrals, supporters, weights=W, top_k=None)
    pruned = match_waiting_list(referrals, supporters, weights=W, top_k=10)
    assert pruned.candidate_pairs < exact.candidate_pairs
    assert pruned.matched == exact.matched
    assert exact.total_scaled >= pruned.total_scaled >= 0.99 * exact.total_scaled


def test_a_top_k_no_smaller_than_the_supporter_list_is_the_exact_optimum():
    referrals, supporters = seeded_population(11, 120, 20)
    exact = match_waiting_list(referrals, supporters, weights=W, top_k=None)
    wide = match_waiting_list(referrals, supporters, weights=W, top_k=len(supporters))
    assert (wide.matched, wide.total_scaled) == (exact.matched, exact.total_scaled)


def test_pruning_keeps_each_persons_best_candidates():
    referrals, supporters = seeded_population(3, 50, 30)
    graph = candidate_graph(referrals, supporters, weights=W, top_k=3)
    for i, r in enumerate(referrals):
        kept = sorted(graph.total[graph.referral_index == i], reverse=True)
        ranked = [s.score.total for s in rank_candidates(r, supporters, weights=W, limit=3)]
        assert kept == pytest.approx(ranked)


def test_score_scale_leaves_room_for_the_assignment_bonus_in_exact_floats():
    # bonus x referrals must stay exact in float64 for the waiting lists we expect.
    n = 1_000_000
    assert ((n + 1) * SCORE_SCALE) * 3 < 2**53


def test_suggestion_is_immutable():
    [suggestion] = rank_candidates(make_referral(), [make_supporter()], weights=W)
    with pytest.raises(dataclasses.FrozenInstanceError):
        suggestion.supporter_id = 99
