"""The roles people hold in the portal (see DESIGN.md, "Who uses it").

Each role is a Django group of the same name. What each role may do arrives with the
accounts issue; until then a role is a label the demo data and tests can rely on.
"""

from django.db import models


class Role(models.TextChoices):
    SERVICE_USER = "service_user", "Service user"
    PEER_VOLUNTEER = "peer_volunteer", "Peer volunteer"
    PEER_SUPPORT_WORKER = "peer_support_worker", "Peer support worker"
    COORDINATOR = "coordinator", "Coordinator"
    CONTENT_EDITOR = "content_editor", "Content editor"
    CONTENT_REVIEWER = "content_reviewer", "Content reviewer"
    COMMISSIONER = "commissioner", "Commissioner"
    ADMINISTRATOR = "administrator", "Administrator"
