"""Benchmark: the peer matching engine on a synthetic but realistic population.

What it measures (in memory only; the lead's database load comes on top):

* rolling: ``rank_candidates`` for one referral among all supporters, median and p95 over a
  sample of referrals (target: under 100 ms among 1,000 supporters);
* batch: ``match_waiting_list`` for the whole waiting list (target at 10,000 x 1,000: solver
  under 2 s, build + solve under 5 s, peak memory under 1 GB), against ``match_greedy``;
* the price of pruning to the top K supporters per referral: the same batch with every
  eligible pair (``--unpruned`` at full size; always at the quick size).

The population (seeded, fictional): two services (West Yorkshire: LS, BD, WF, HX; Greater
Manchester and Sheffield: M, S), 30% paid workers with larger caseloads and 70% volunteers, of
whom about 30% are paused or not ready; 8% under-18s; a quarter of people prefer a supporter
gender; mostly English with some Polish, Urdu, Punjabi, Romanian, Arabic, Somali, Bengali, and
a few people who speak no English; about 2% of referrals carry do-not-match exclusions.

Run from the repository root::

    .venv/bin/python bench/matching.py            # 10,000 referrals x 1,000 supporters
    .venv/bin/python bench/matching.py --quick    # 1,000 x 100
    .venv/bin/python bench/matching.py --unpruned # also solve over every eligible pair

The last line printed is one JSON object with every figure. Nothing here is a test: the
figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc

from peer_support.matching import (
    DEFAULT_TOP_K,
    NEEDS,
    BatchResult,
    Referral,
    Supporter,
    Weights,
    match_greedy,
    match_waiting_list,
    rank_candidates,
)

SERVICE_AREAS = {1: {"LS": 29, "BD": 22, "WF": 17, "HX": 7}, 2: {"M": 40, "S": 36}}
OTHER_LANGUAGES = ["pl", "ur", "pa", "ro", "ar", "so", "bn"]
INTERESTS = [
    "football",
    "music",
    "gaming",
    "fishing",
    "cooking",
    "walking",
    "art",
    "films",
    "gym",
    "reading",
    "gardening",
    "boxing",
    "faith",
    "cars",
    "animals",
]
SLOTS = [
    (d, p) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("am", "pm", "eve")
]
NEED_WEIGHTS = [30, 12, 8, 20, 14, 16, 10, 6, 3, 5]  # in NEEDS order


def _district(rng: random.Random, service: int) -> str:
    areas = SERVICE_AREAS[service]
    area = rng.choice(list(areas))
    return f"{area}{rng.randint(1, areas[area])}"


def _needs(rng: random.Random, k: int) -> frozenset[str]:
    return frozenset(rng.choices(NEEDS, weights=NEED_WEIGHTS, k=k))


def _gender(rng: random.Random) -> str:
    return rng.choices(["female", "male", "non-binary"], weights=[48, 48, 4])[0]


def make_supporters(rng: random.Random, count: int) -> list[Supporter]:
    supporters = []
    for sid in range(1, count + 1):
        service = 1 if rng.random() < 0.6 else 2
        services = {service, 3 - service} if rng.random() < 0.05 else {service}
        worker = rng.random() < 0.3
        capacity = rng.randint(6, 10) if worker else rng.randint(1, 3)
        languages = {"en"}
        if rng.random() < 0.2:
            languages.add(rng.choice(OTHER_LANGUAGES))
        home = _district(rng, service)
        area = "".join(c for c in home if c.isalpha())
        covered = {home} | {
            f"{area}{rng.randint(1, SERVICE_AREAS[service][area])}"
            for _ in range(rng.randint(1, 5))
        }
        if rng.random() < 0.2:
            covered.add(_district(rng, service))
        supporters.append(
            Supporter(
                id=sid,
                service_ids=frozenset(services),
                kind="worker" if worker else "volunteer",
                gender=_gender(rng),
                languages=frozenset(languages),
                lived_experience=_needs(rng, rng.randint(1, 3)),
                districts_covered=frozenset(covered),
                capacity=capacity,
                active_matches=rng.randint(0, capacity),
                availability=frozenset(rng.sample(SLOTS, rng.randint(4, 10))),
                paused=not worker and rng.random() < 0.15,
                readiness_valid=worker or rng.random() > 0.18,
                cleared_for_under_18=rng.random() < (0.4 if worker else 0.2),
                interests=frozenset(rng.sample(INTERESTS, rng.randint(0, 4))),
            )
        )
    return supporters


def make_referrals(rng: random.Random, count: int, supporters: list[Supporter]) -> list[Referral]:
    by_service = {s: [p.id for p in supporters if s in p.service_ids] for s in SERVICE_AREAS}
    referrals = []
    for rid in range(1, count + 1):
        service = 1 if rng.random() < 0.6 else 2
        gender = _gender(rng)
        roll = rng.random()
        if roll < 0.9:
            languages, needs_language = {"en"}, False
        elif roll < 0.97:
            languages, needs_language = {"en", rng.choice(OTHER_LANGUAGES)}, rng.random() < 0.3
        else:
            languages, needs_language = {rng.choice(OTHER_LANGUAGES)}, True
        excluded: set[int] = set()
        if rng.random() < 0.02:
            excluded = set(rng.sample(by_service[service], rng.randint(1, 3)))
        referrals.append(
            Referral(
                id=rid,
                service_id=service,
                age_band=rng.choices(["under_18", "18_24", "25_plus"], weights=[8, 25, 67])[0],
                gender=gender,
                preferred_supporter_gender=(
                    (gender if rng.random() < 0.85 else _gender(rng))
                    if rng.random() < 0.25
                    else None
                ),
                languages=frozenset(languages),
                needs_language=needs_language,
                home_district=_district(rng, service),
                needs=_needs(rng, rng.randint(1, 3)),
                interests=frozenset(rng.sample(INTERESTS, rng.randint(0, 3))),
                availability=frozenset(rng.sample(SLOTS, rng.randint(2, 6))),
                excluded_supporter_ids=frozenset(excluded),
            )
        )
    return referrals


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def percent(new: float, old: float) -> float | None:
    return None if old == 0 else round(100.0 * (new - old) / old, 2)


def summary(result: BatchResult) -> dict:
    return {
        "matched": result.matched,
        "unassigned": len(result.unassigned),
        "total_score": round(result.total_score, 3),
        "build_s": round(result.build_seconds, 3),
        "solver_s": round(result.solver_seconds, 3),
        "total_s": round(result.build_seconds + result.solver_seconds, 3),
        "candidate_pairs": result.candidate_pairs,
        "eligible_pairs": result.eligible_pairs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 referrals x 100 supporters")
    parser.add_argument("--referrals", type=int)
    parser.add_argument("--supporters", type=int)
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    parser.add_argument("--unpruned", action="store_true", help="also solve over all pairs")
    parser.add_argument("--rolling-samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20251)
    args = parser.parse_args()
    n_ref = args.referrals or (1_000 if args.quick else 10_000)
    n_sup = args.supporters or (100 if args.quick else 1_000)
    unpruned = args.unpruned or args.quick

    rng = random.Random(args.seed)
    weights = Weights()
    t = time.perf_counter()
    supporters = make_supporters(rng, n_sup)
    referrals = make_referrals(rng, n_ref, supporters)
    generate_s = time.perf_counter() - t
    free = sum(s.free_places for s in supporters if not s.paused and s.readiness_valid)
    print(
        f"population: {n_ref} referrals, {n_sup} supporters, {free} free places "
        f"among available supporters (generated in {generate_s:.2f} s)"
    )

    # Rolling: one referral among every supporter.
    times = []
    for referral in rng.sample(referrals, min(args.rolling_samples, n_ref)):
        t = time.perf_counter()
        rank_candidates(referral, supporters, weights=weights, limit=10)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    rolling = {
        "samples": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(int(0.95 * len(times)) - 1, 0)], 2),
        "max_ms": round(times[-1], 2),
    }
    print(
        f"rolling rank among {n_sup} supporters: median {rolling['median_ms']} ms, "
        f"p95 {rolling['p95_ms']} ms, max {rolling['max_ms']} ms ({len(times)} referrals)"
    )

    rss_before = peak_rss_mb()
    t = time.perf_counter()
    batch = match_waiting_list(referrals, supporters, weights=weights, top_k=args.top_k)
    wall_s = time.perf_counter() - t
    rss_after = peak_rss_mb()
    b = summary(batch) | {"wall_s": round(wall_s, 3)}
    print(f"batch {n_ref} x {n_sup} (top {args.top_k} per referral, most matched then score):")
    print(
        f"  build (candidates + graph) {b['build_s']} s, solver {b['solver_s']} s, "
        f"total {b['total_s']} s"
    )
    print(f"  {b['eligible_pairs']} eligible pairs, {b['candidate_pairs']} kept for the solver")
    print(
        f"  matched {b['matched']}, unassigned {b['unassigned']}, total score {b['total_score']}"
    )
    print(f"  peak RSS {rss_after:.0f} MB (process; {rss_before:.0f} MB before the batch)")

    greedy = match_greedy(referrals, supporters, weights=weights)
    g = summary(greedy)
    gain = {
        "matched": b["matched"] - g["matched"],
        "matched_pct": percent(b["matched"], g["matched"]),
        "total_score_pct": percent(batch.total_score, greedy.total_score),
        "mean_score_per_match_pct": percent(
            batch.total_score / max(batch.matched, 1), greedy.total_score / max(greedy.matched, 1)
        ),
    }
    print(f"greedy: matched {g['matched']}, total score {g['total_score']}, {g['solver_s']} s")
    print(
        f"gain over greedy: {gain['matched']:+d} people matched ({gain['matched_pct']}%), "
        f"total score {gain['total_score_pct']}%, mean score per match "
        f"{gain['mean_score_per_match_pct']}%"
    )

    tracemalloc.start()
    match_waiting_list(referrals, supporters, weights=weights, top_k=args.top_k)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"tracemalloc peak during one batch (Python + numpy heap): "
        f"{traced_peak / 1024 / 1024:.0f} MB"
    )

    full = None
    if unpruned:
        exact = match_waiting_list(referrals, supporters, weights=weights, top_k=None)
        full = summary(exact)
        print(
            f"unpruned (every eligible pair): matched {full['matched']}, total score "
            f"{full['total_score']}, solver {full['solver_s']} s, total {full['total_s']} s"
        )
        print(
            f"pruning to top {args.top_k} costs {full['matched'] - b['matched']} matches and "
            f"{round(exact.total_score - batch.total_score, 3)} score "
            f"({percent(batch.total_score, exact.total_score)}%)"
        )

    print(
        json.dumps(
            {
                "referrals": n_ref,
                "supporters": n_sup,
                "top_k": args.top_k,
                "rolling": rolling,
                "batch": b,
                "peak_rss_mb": round(rss_after, 1),
                "tracemalloc_peak_mb": round(traced_peak / 1024 / 1024, 1),
                "greedy": g,
                "gain_over_greedy": gain,
                "unpruned": full,
            },
            separators=(",", ":"),
        )
    )


if __name__ == "__main__":
    main()
