"""A fork server for the kill tests (tests/notifications/test_kill.py).

Starting Django takes seconds, and a kill test needs a fresh sender for every kill. So this
process sets Django up once, opens nothing (no database connection, no HTTP session), and
forks a child for each command it reads on stdin, one JSON object a line::

    {"tag": "7", "cmd": "send", "args": {"message_id": 12}}

It answers ``{"tag": "7", "pid": <child>}`` at once; the child answers
``{"tag": "7", "result": ...}`` (or ``"error"``) when it is done, unless the test killed it
first, which is the point. Children are reaped automatically.

Run as ``python -m tests.notifications.fault_child`` from the project root, with the settings
in the environment (DATABASE_URL, SMS_BACKEND=twilio, TWILIO_API_BASE_URL...). Nothing here
prints a phone number or a message's text: ids and counts only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import traceback
from collections import Counter

import django


class _DiesBeforeTheCall:
    """The real client, except that asked to send it kills its own process (SIGKILL) before
    any HTTP request: a sender that dies after its claim is committed and the text is stored,
    but before the provider hears of it."""

    def __init__(self, client) -> None:
        self._client = client

    def send(self, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("still alive after SIGKILL")  # never reached

    def __getattr__(self, name: str):
        return getattr(self._client, name)


def _send(*, message_id: int, die_before_the_call: bool = False) -> str:
    from notifications import services, sms

    client = _DiesBeforeTheCall(sms.get_sms_client()) if die_before_the_call else None
    return services.message_send(message_id=message_id, client=client)


def _setup(*, count: int) -> list[int]:
    """``count`` people with consent to reminders, each with an appointment whose "3 days
    before" reminder is due now. Planned as if booked four days ago, so that the send time
    is the slot's own (never moved to 08:00 by quiet hours, whatever the time of the run).
    Returns the due rows' ids."""
    from django.db import transaction
    from django.utils import timezone

    from notifications import services
    from notifications.models import OutboundMessage
    from peer_support.models import ServiceUserRecord
    from portal.models import Membership, Service, User
    from portal.roles import Role
    from portal.services import consent_give, consent_wording_ensure
    from tests.factories import AppointmentFactory, ServiceUserRecordFactory

    now = timezone.now()
    with transaction.atomic():
        consent_wording_ensure()
        service, _ = Service.objects.get_or_create(
            slug="fault-tests",
            defaults={
                "name": "Testshire Fault Tests",
                "area": "Testshire (fictional)",
                "phone": "+441134960999",
                "hours": "Every day, 8am to 8pm",
            },
        )
        coordinator, created = User.objects.get_or_create(
            username="fault-coordinator", defaults={"first_name": "Jordan", "email": ""}
        )
        if created:
            coordinator.set_unusable_password()
            coordinator.save()
            Membership.objects.create(user=coordinator, service=service, role=Role.COORDINATOR)
        first = ServiceUserRecord.objects.count()
        if first + count > 1000:
            raise ValueError("the fictional range has 1000 numbers")
        appointment_ids = []
        for n in range(first, first + count):
            user = User(username=f"fault-person-{n}", first_name="Sam", email="")
            user.set_unusable_password()
            user.save()
            Membership.objects.create(user=user, service=service, role=Role.SERVICE_USER)
            record = ServiceUserRecordFactory(
                service=service,
                user=user,
                mobile=f"+447700900{n:03d}",
                status=ServiceUserRecord.Status.MATCHED,
            )
            consent_give(
                subject=user,
                service=service,
                purpose="sms_reminders",
                method="verbal_court",
                recorded_by=coordinator,
            )
            appointment = AppointmentFactory(
                service_user=record,
                starts_at=now + dt.timedelta(days=3, hours=-2),
                arranged_by=coordinator,
            )
            appointment_ids.append(appointment.pk)
        services.reminders_plan_many(
            appointment_ids=appointment_ids, now=now - dt.timedelta(days=4)
        )
    ids = list(
        OutboundMessage.objects.filter(
            appointment_id__in=appointment_ids,
            slot="3d",
            status=OutboundMessage.Status.SCHEDULED,
            send_at__lte=timezone.now(),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(ids) != count:
        raise RuntimeError(f"{len(ids)} due reminders planned, not {count}")
    return ids


def _statuses(ids: list[int]) -> dict[str, int]:
    from notifications.models import OutboundMessage

    return dict(
        Counter(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))
    )


def _finish(*, ids: list[int], rounds: int = 5) -> dict[str, int]:
    """After the kills, with every sender dead: sweep with no grace period (every claim is
    stale at once), then send whatever the sweep put back, until every row is settled."""
    from django.conf import settings

    from notifications import services
    from notifications.models import OutboundMessage

    settings.SMS_CLAIM_STALE_SECONDS = 0
    for _ in range(rounds):
        services.messages_sweep()
        pending = list(
            OutboundMessage.objects.filter(
                pk__in=ids, status__in=OutboundMessage.PENDING
            ).values_list("pk", flat=True)
        )
        if pending:
            services.messages_send(message_ids=pending)
        if not OutboundMessage.objects.filter(
            pk__in=ids, status__in=[*OutboundMessage.PENDING, OutboundMessage.Status.SENDING]
        ).exists():
            break
    return _statuses(ids)


def _dispatch(*, claim_stale: int | None = None, queued_stale: int | None = None) -> dict:
    """The every-minute task, as the schedule would run it, optionally with shorter grace
    periods than production's (the kill tests cannot wait minutes)."""
    from django.conf import settings

    from notifications import tasks

    if claim_stale is not None:
        settings.SMS_CLAIM_STALE_SECONDS = claim_stale
    if queued_stale is not None:
        settings.SMS_QUEUED_STALE_SECONDS = queued_stale
    return tasks.messages_dispatch()


COMMANDS = {
    "send": _send,
    "setup": _setup,
    "statuses": lambda *, ids: _statuses(ids),
    "finish": _finish,
    "dispatch": _dispatch,
}


def _answer(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _child(command: dict) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 0
    try:
        result = COMMANDS[command["cmd"]](**command.get("args", {}))
        payload = {"tag": command["tag"], "result": result}
    except BaseException:  # noqa: BLE001 - the test shows it
        payload = {"tag": command["tag"], "error": traceback.format_exc()[-3000:]}
        code = 1
    try:
        _answer(payload)
    finally:
        os._exit(code)  # never run the fork server's exit handlers


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    # Import what the children use now, once, so that each fork starts warm.
    from django.urls import reverse

    import notifications.tasks  # noqa: F401
    import tests.factories  # noqa: F401
    from notifications import sms

    reverse("appointment_link", args=["0-warmupwarmup"])  # imports every view module
    sms.get_sms_client()  # imports the SDK's lazily loaded parts; connects to nothing

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    _answer({"tag": "ready", "pid": os.getpid()})
    while line := sys.stdin.readline():
        command = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(command)
        _answer({"tag": command["tag"], "pid": pid})


if __name__ == "__main__":
    main()
