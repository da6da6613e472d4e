from django.conf import settings


def shell(request) -> dict:
    """What the page shell (header, footer) needs on every page."""
    return {"SERVICE_NAME": settings.WAGTAIL_SITE_NAME}
