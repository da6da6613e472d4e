from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health


@require_safe
@never_cache
def healthz(request):
    """200 when database, cache and queue all answer; 503 naming what failed otherwise."""
    results = health.run_checks()
    failed = [name for name, state in results.items() if state != "ok"]
    body: dict = dict(results)
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
