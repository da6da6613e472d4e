"""Thin django-q2 entry points for the core app. Each takes ids only (or nothing)."""

from django.core.management import call_command


def sessions_clear_expired() -> None:
    """Delete expired sessions so signed-in state is not kept longer than needed."""
    call_command("clearsessions")
