"""Create or update the django-q2 schedules listed in ``settings.PORTAL_SCHEDULES``."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django_q.models import Schedule


@transaction.atomic
def schedules_sync() -> list[tuple[str, str]]:
    """Make the schedule table match settings, by name; return (name, created|updated|same).

    Idempotent: running it twice leaves the same rows. A schedule's next run is kept when
    it already exists, so re-running after a deploy does not fire everything at once.
    """
    outcomes: list[tuple[str, str]] = []
    for spec in settings.PORTAL_SCHEDULES:
        import_string(spec["func"])  # fail here, not at 3am, when a path is wrong
        wanted = {
            "func": spec["func"],
            "schedule_type": spec["schedule_type"],
            "minutes": spec.get("minutes"),
            "cron": spec.get("cron"),
            "repeats": -1,
        }
        schedule = Schedule.objects.filter(name=spec["name"]).first()
        if schedule is None:
            Schedule.objects.create(name=spec["name"], **wanted)
            outcomes.append((spec["name"], "created"))
            continue
        changed = [field for field, value in wanted.items() if getattr(schedule, field) != value]
        if changed:
            for field in changed:
                setattr(schedule, field, wanted[field])
            schedule.save(update_fields=changed)
            outcomes.append((spec["name"], "updated"))
        else:
            outcomes.append((spec["name"], "same"))
    return outcomes
