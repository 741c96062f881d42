from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from .health import health_report, workers_report


@never_cache
@require_GET
def healthz(request):
    """200 when database, broker and storage all answer; 503 naming the parts that failed.

    With workers (not embedded mode) the body also reports them; no live worker makes the status
    "degraded" (still 200, so load balancers keep the web servers), or 503 with ?workers=required.
    """
    healthy, checks = health_report()
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    workers = workers_report()
    if workers is not None:
        body["workers"] = workers
        if workers["status"] != "ok" and healthy:
            body["status"] = "degraded"
            healthy = request.GET.get("workers") != "required"
    return JsonResponse(body, status=200 if healthy else 503)


def not_found(request, exception=None):
    """404 for everything: JSON in the API's error shape under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """500 without DEBUG: JSON in the API's error shape under /api/, the plain error page elsewhere.
    Nothing about the failure is shown (it is logged); the page needs no database."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "detail": "Something went wrong on our side; the error was logged."},
            status=500,
        )
    return html_server_error(request)
