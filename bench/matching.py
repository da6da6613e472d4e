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

With ``--database`` it measures what a coordinator waits for instead: the same population
(all in one service) is written to a throwaway database, then loading the waiting list and
the supporters through the selectors the portal uses
(``peer_support.selectors.waiting_list_for_matching`` and ``supporters_for_matching``), the
solver and the greedy baseline are timed separately (targets: load + build + solve under 5 s,
solver under 2 s, peak memory under 1 GB). Every referral has an account, a service user
membership and peer support consent (the v1 wording); supporters' busy places are real active
matches with people of their own; about 2% of referrals carry do-not-match exclusions against
supporters, and a hundred more against people already matched. The database is a temporary
SQLite file by default; ``--database-url`` names a PostgreSQL server instead, on which a
database ``bench_matching_<pid>`` (or the ``bench_...`` name in the URL) is created, migrated,
and dropped at the end: no other database is touched; it is ANALYZEd after the inserts, as
autovacuum would soon do (``--no-analyze`` skips that, to see plans made without statistics).
Django runs with ``DJANGO_SETTINGS_MODULE=portal.settings`` and ``DJANGO_DEBUG=1`` (query
logging off).

Run from the repository root::

    .venv/bin/python bench/matching.py            # 10,000 referrals x 1,000 supporters
    .venv/bin/python bench/matching.py --quick    # 1,000 x 100
    .venv/bin/python bench/matching.py --unpruned # also solve over every eligible pair
    .venv/bin/python bench/matching.py --database # loaded from a temporary SQLite database
    .venv/bin/python bench/matching.py --database \
        --database-url postgres://postgres@127.0.0.1:5432/   # ... from PostgreSQL

The last line printed is one JSON object with every figure. Nothing here is a test: the
figures depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from throwaway import ThrowawayDatabase, service_users_create

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


# --- With the database ------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
# The in-memory generator's parts of the day, in the portal's words.
DAY_PART = {"am": "morning", "pm": "afternoon", "eve": "evening"}
BATCH = 1_000


def _slots(slots) -> list[list[str]]:
    return [[day, DAY_PART[part]] for day, part in sorted(slots)]


def _configure_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["DJANGO_DEBUG"] = "1"  # development defaults; fictional phone numbers allowed
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)  # cache and queue in this process: nothing shared
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.conf import settings

    django.setup()
    # DEBUG keeps every query's SQL in memory; the figures are about the work, not the log.
    settings.DEBUG = False


def populate(rng: random.Random, n_ref: int, n_sup: int) -> dict:
    """Write the bench population into one service, in bulk (no per-row validation)."""
    from django.conf import settings
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import transaction
    from django.utils import timezone

    from peer_support.models import Exclusion, Match, ServiceUserRecord
    from peer_support.models import Supporter as SupporterRow
    from portal.models import ConsentPurpose, Membership, Service, User
    from portal.roles import Role

    supporters = make_supporters(rng, n_sup)
    referrals = make_referrals(rng, n_ref, supporters)
    now = timezone.now()
    today = timezone.localdate()
    password = UNUSABLE_PASSWORD_PREFIX + "bench"
    training = list(settings.PEER_REQUIRED_TRAINING)
    with transaction.atomic():
        service = Service.objects.create(
            name="Bench Liaison and Diversion Service",
            slug="bench",
            area="Bench (fictional)",
            phone="+441134960999",
            hours="Every day",
            postcode_districts="LS1 BD1 M1 S1",
        )
        staff = User.objects.create(username="bench-coordinator", password=password)
        Membership.objects.create(user=staff, service=service, role=Role.COORDINATOR)

        sup_users = User.objects.bulk_create(
            [User(username=f"bench-supporter-{s.id}", password=password) for s in supporters],
            batch_size=BATCH,
        )
        rows = SupporterRow.objects.bulk_create(
            [
                SupporterRow(
                    user=user,
                    kind=s.kind,
                    lived_experience=sorted(s.lived_experience),
                    languages=sorted(s.languages),
                    gender=s.gender,
                    districts_covered=sorted(s.districts_covered),
                    interests=sorted(s.interests),
                    capacity=s.capacity,
                    availability=_slots(s.availability),
                    paused=s.paused,
                    paused_reason="Taking a break" if s.paused else "",
                    dbs_checked_on=today - timedelta(days=100 if s.readiness_valid else 2_000),
                    dbs_level=SupporterRow.DBSLevel.ENHANCED,
                    training_modules_completed=training,
                    last_supervision_on=today - timedelta(days=10),
                    cleared_for_under_18=s.cleared_for_under_18,
                )
                for user, s in zip(sup_users, supporters, strict=True)
            ],
            batch_size=BATCH,
        )
        SupporterRow.services.through.objects.bulk_create(
            [
                SupporterRow.services.through(supporter_id=r.pk, service_id=service.pk)
                for r in rows
            ],
            batch_size=BATCH,
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    user=user,
                    service=service,
                    role=Role.PEER_SUPPORT_WORKER if s.kind == "worker" else Role.PEER_VOLUNTEER,
                )
                for user, s in zip(sup_users, supporters, strict=True)
            ],
            batch_size=BATCH,
        )
        row_of = {s.id: r for s, r in zip(supporters, rows, strict=True)}

        # Places already taken: one person each, matched and without an account.
        busy = [(s, k) for s in supporters for k in range(s.active_matches)]
        matched = ServiceUserRecord.objects.bulk_create(
            [
                ServiceUserRecord(
                    service=service,
                    preferred_name="Bench",
                    age_band="25_plus",
                    status=ServiceUserRecord.Status.MATCHED,
                )
                for _ in busy
            ],
            batch_size=BATCH,
        )
        Match.objects.bulk_create(
            [
                Match(
                    service_user=record,
                    supporter=row_of[s.id],
                    started_at=now - timedelta(days=30),
                    created_by=staff,
                )
                for record, (s, _) in zip(matched, busy, strict=True)
            ],
            batch_size=BATCH,
        )

        # The waiting list: accounts, memberships, consent, records.
        users = service_users_create(
            [f"bench-person-{r.id}" for r in referrals],
            service=service,
            staff=staff,
            purpose=ConsentPurpose.PEER_SUPPORT,
            method="verbal_custody",
            now=now,
            batch=BATCH,
        )
        records = ServiceUserRecord.objects.bulk_create(
            [
                ServiceUserRecord(
                    service=service,
                    user=user,
                    preferred_name="Bench",
                    age_band=r.age_band,
                    gender=r.gender,
                    preferred_supporter_gender=r.preferred_supporter_gender or "",
                    languages=sorted(r.languages),
                    accessibility_needs=["interpreter"] if r.needs_language else [],
                    home_district=r.home_district,
                    needs=sorted(r.needs),
                    interests=sorted(r.interests),
                    availability=_slots(r.availability),
                    status=ServiceUserRecord.Status.AWAITING_MATCH,
                )
                for user, r in zip(users, referrals, strict=True)
            ],
            batch_size=BATCH,
        )
        exclusions = [
            Exclusion(
                service_user=record,
                supporter=row_of[sid],
                kind=Exclusion.Kind.OTHER,
                reason="Bench",
                entered_by=staff,
            )
            for record, r in zip(records, referrals, strict=True)
            for sid in sorted(r.excluded_supporter_ids)
        ]
        # People who must not meet someone already matched: their supporter is excluded too.
        for record in rng.sample(records, min(100, len(records))) if matched else []:
            exclusions.append(
                Exclusion(
                    service_user=record,
                    other_service_user=rng.choice(matched),
                    kind=Exclusion.Kind.CO_DEFENDANT,
                    reason="Bench",
                    entered_by=staff,
                )
            )
        Exclusion.objects.bulk_create(exclusions, batch_size=BATCH)
    return {
        "service_id": service.pk,
        "supporters": len(rows),
        "referrals": len(records),
        "matched_people": len(matched),
        "exclusions": len(exclusions),
    }


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _reset_peak_rss() -> bool:
    """Linux: start the high-water mark (VmHWM) again from the current size, so the peak
    reported is that of the load and the matching, not of the inserts before them."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _vm_hwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_database(args: argparse.Namespace, n_ref: int, n_sup: int) -> None:
    database = ThrowawayDatabase(
        args.database_url, prefix="bench_matching", option="--database-url"
    )
    database.create()
    try:
        _configure_django(database.url)
        from django.core.management import call_command
        from django.db import connections

        from peer_support.matching import weights_from_settings
        from peer_support.selectors import supporters_for_matching, waiting_list_for_matching

        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_s = time.perf_counter() - t
        t = time.perf_counter()
        made = populate(random.Random(args.seed), n_ref, n_sup)  # noqa: S311 - a bench
        insert_s = time.perf_counter() - t
        analyzed = bool(database.name) and not args.no_analyze
        if analyzed:
            # PostgreSQL plans by its statistics, which autovacuum gathers soon after a bulk
            # load; measured straight after the load, a plan made without them can be
            # quadratic (--no-analyze shows it).
            with connections["default"].cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"database: {database.label}, migrated in {migrate_s:.1f} s; inserted 1 service, "
            f"{made['supporters']} supporters, {made['referrals']} referrals with accounts and "
            f"consent, {made['matched_people']} people already matched, "
            f"{made['exclusions']} exclusions in {insert_s:.1f} s"
            + ("; then ANALYZE" if analyzed else "")
        )
        connections.close_all()  # the load below opens a fresh connection, as a request would
        gc.collect()
        rss_before = _current_rss_mb()
        insert_peak = peak_rss_mb()  # before the reset below, which also resets this figure
        peak_reset = _reset_peak_rss()

        sid = made["service_id"]
        t = time.perf_counter()
        referrals = waiting_list_for_matching(service_ids=[sid])
        waiting_s = time.perf_counter() - t
        t = time.perf_counter()
        supporters = supporters_for_matching(service_ids=[sid])
        supporters_s = time.perf_counter() - t
        load_s = waiting_s + supporters_s

        weights = weights_from_settings()
        batch = match_waiting_list(referrals, supporters, weights=weights, top_k=args.top_k)
        b = summary(batch)
        total_s = load_s + batch.build_seconds + batch.solver_seconds
        hwm = _vm_hwm_mb() if peak_reset else None
        process_peak = max(insert_peak, peak_rss_mb())
        greedy = match_greedy(referrals, supporters, weights=weights)
        g = summary(greedy)
        gain = {
            "matched": b["matched"] - g["matched"],
            "matched_pct": percent(b["matched"], g["matched"]),
            "total_score_pct": percent(batch.total_score, greedy.total_score),
            "mean_score_per_match_pct": percent(
                batch.total_score / max(batch.matched, 1),
                greedy.total_score / max(greedy.matched, 1),
            ),
        }
        print(
            f"loaded {len(referrals)} referrals + {len(supporters)} supporters "
            f"({len(referrals) + len(supporters)} rows) in {load_s:.3f} s "
            f"(waiting list {waiting_s:.3f} s, supporters {supporters_s:.3f} s)"
        )
        print(f"batch {len(referrals)} x {len(supporters)} (top {args.top_k}, most matched):")
        print(
            f"  load {load_s:.3f} s + build {b['build_s']} s + solver {b['solver_s']} s = "
            f"total {total_s:.3f} s (target under 5 s); solver {b['solver_s']} s "
            f"(target under 2 s)"
        )
        print(
            f"  {b['eligible_pairs']} eligible pairs, {b['candidate_pairs']} kept for the solver"
        )
        peak_text = (
            f"peak RSS {hwm:.0f} MB during load and matching"
            if hwm is not None
            else "peak RSS during load and matching not measurable here"
        )
        print(
            f"  {peak_text} (target under 1 GB; {rss_before:.0f} MB before the load; "
            f"process peak including the inserts {process_peak:.0f} MB)"
        )
        print(f"optimal: matched {b['matched']}, total score {b['total_score']}")
        print(f"greedy: matched {g['matched']}, total score {g['total_score']}, {g['solver_s']} s")
        print(
            f"gain over greedy: {gain['matched']:+d} people matched ({gain['matched_pct']}%), "
            f"total score {gain['total_score_pct']}%, mean score per match "
            f"{gain['mean_score_per_match_pct']}%"
        )
        print(
            json.dumps(
                {
                    "database": "postgresql" if database.name else "sqlite",
                    "analyzed": analyzed,
                    "referrals": len(referrals),
                    "supporters": len(supporters),
                    "top_k": args.top_k,
                    "inserted": made,
                    "migrate_s": round(migrate_s, 3),
                    "insert_s": round(insert_s, 3),
                    "load_s": round(load_s, 3),
                    "load_waiting_list_s": round(waiting_s, 3),
                    "load_supporters_s": round(supporters_s, 3),
                    "batch": b,
                    "total_with_load_s": round(total_s, 3),
                    "peak_rss_load_and_match_mb": None if hwm is None else round(hwm, 1),
                    "peak_rss_process_mb": round(process_peak, 1),
                    "greedy": g,
                    "gain_over_greedy": gain,
                },
                separators=(",", ":"),
            )
        )
        connections.close_all()
    finally:
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="--database: time loading the waiting list from a throwaway database too.",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 referrals x 100 supporters")
    parser.add_argument("--referrals", type=int)
    parser.add_argument("--supporters", type=int)
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    parser.add_argument("--unpruned", action="store_true", help="also solve over all pairs")
    parser.add_argument("--rolling-samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument(
        "--database",
        action="store_true",
        help="write the population to a throwaway database (migrated here, removed after) and "
        "time loading it through the portal's selectors, the solver and the greedy baseline",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="with --database: a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/ "
        "(a database bench_matching_<pid>, or the bench_... name given, is created and "
        "dropped); default a temporary SQLite file",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="with --database-url: do not ANALYZE after the inserts (planner statistics as "
        "right after a bulk load, before autovacuum has run)",
    )
    args = parser.parse_args()
    n_ref = args.referrals or (1_000 if args.quick else 10_000)
    n_sup = args.supporters or (100 if args.quick else 1_000)
    if args.database_url and not args.database:
        parser.error("--database-url needs --database")
    if args.database:
        run_database(args, n_ref, n_sup)
        return
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
