from django.core.management.base import BaseCommand

from portal.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create or update the task queue's schedules from settings (safe to run again)."

    def handle(self, *args, **options):
        for name, outcome in schedules_sync():
            self.stdout.write(f"{outcome:>8}  {name}")
