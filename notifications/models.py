"""What the console SMS backend would have sent, for the staff-only outbox page.

Only the console backend writes here (development and demos): it stands in for a phone.
"""

from django.conf import settings
from django.db import models


class ConsoleMessage(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The account the message was for, when known.",
    )
    to = models.CharField(max_length=20)
    body = models.TextField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Console message {self.pk}"

    @property
    def to_masked(self) -> str:
        """Enough for a person to tell two test phones apart; not the whole number."""
        return f"…{self.to[-3:]}" if self.to else ""
