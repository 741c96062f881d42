from django.conf import settings


def content_security_policy() -> str:
    """No inline script and no third-party origin, except where media is stored (signed S3 URLs)."""
    media = " ".join(["'self'", "data:", "blob:", *settings.CORE_CSP_MEDIA_ORIGINS])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {media}; media-src {media}; connect-src 'self' ws: wss:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class DomainErrorPageMiddleware:
    """For server-rendered pages: a DomainError becomes the matching 404/403/4xx page.

    The API has its own handler (core.exceptions.api_exception_handler); DRF catches errors before
    they reach this middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.http import Http404
        from django.shortcuts import render

        from core.exceptions import DomainError, NotFound

        if isinstance(exception, NotFound):
            raise Http404("Not found.")
        if isinstance(exception, DomainError):
            context = {"code": exception.code, "message": exception.message}
            return render(request, "error.html", context, status=exception.status_code)
        return None


class HostileQueryMiddleware:
    """Refuses a NUL character in the path or in any query parameter (name or value) with a 400.

    PostgreSQL text refuses NUL, so every filter (`?q=`, `?split=`, `?meta.<key>=`, the audit log's
    `?action=`...) would otherwise fail inside the database as a 500. One check here covers every
    API route and page; request bodies are checked by `core.parsers`. A cookie with a NUL (a forged
    session id would reach the session table) is dropped, as if the browser had not sent it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from core.parsers import FORBIDDEN_CHARACTERS

        where = None
        if FORBIDDEN_CHARACTERS.search(request.path):
            where = "The path"
        else:
            for key, values in request.GET.lists():
                if FORBIDDEN_CHARACTERS.search(key) or any(FORBIDDEN_CHARACTERS.search(v) for v in values):
                    where = "A query parameter"
                    break
        if where is None:
            for name, value in list(request.COOKIES.items()):
                if FORBIDDEN_CHARACTERS.search(value):
                    del request.COOKIES[name]  # a forged session or CSRF cookie: as if it were absent
            return self.get_response(request)
        message = f"{where} contains a character that cannot be stored (a NUL byte)."
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            return JsonResponse({"code": "invalid_character", "detail": message}, status=400)
        from django.shortcuts import render

        return render(request, "error.html", {"code": "invalid_character", "message": message}, status=400)
