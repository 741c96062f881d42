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
