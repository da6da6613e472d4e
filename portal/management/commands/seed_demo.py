from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from peer_support.demo import peer_support_demo_counts
from portal.demo import DEMO_PASSWORD, demo_seed, demo_totp_secret


class Command(BaseCommand):
    help = "Create fictional demo data and print how to sign in (DJANGO_DEBUG=1 only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo only runs with DJANGO_DEBUG=1: it creates accounts whose "
                "password is printed here and in the README, which must never exist in "
                "production."
            )
        services, accounts, home = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(f"  Site: {home.title}")
        for service in services:
            self.stdout.write(f"  Service: {service.name} ({service.locations.count()} places)")
        counts = peer_support_demo_counts(services=services)
        self.stdout.write(
            "  Peer support: "
            + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
        )
        self.stdout.write("")
        self.stdout.write("Demo sign-ins (fictional people, demo only):")
        for account in accounts:
            if account.password:
                how = (
                    f"email {account.email}  password {DEMO_PASSWORD}  "
                    f"authenticator key {demo_totp_secret(account)}"
                )
            else:
                how = f"mobile {account.mobile}  (sign in by text message code)"
            self.stdout.write(f"  {account.role.label:<20} {how}")
        self.stdout.write("")
        self.stdout.write(
            "Staff accounts need a code from an authenticator app: add the key above to one "
            "(demo only). Sign in at /accounts/login/; service users choose "
            "'Send me a sign-in code'. Codes appear in this terminal and at "
            "/notifications/outbox/. Wagtail admin: /admin/."
        )
