"""DomainError and the one DRF exception handler: every API error is {"code", "detail"[, "errors"]}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A broken business rule. `code` is machine-readable, `message` is for people."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, message: str, *, status_code: int | None = None, extra: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    """Outside your organisation or project: indistinguishable from "does not exist"."""

    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, message: str = "Not found."):
        super().__init__("not_found", message)


class Forbidden(DomainError):
    """You can see the object, but your role may not do this."""

    status_code = status.HTTP_403_FORBIDDEN

    def __init__(self, message: str = "Your role does not allow this."):
        super().__init__("permission_denied", message)


_CODES = {
    exceptions.ParseError: "malformed_json",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def api_exception_handler(exc, context):
    from rest_framework.views import set_rollback

    from .outage import outage_kind, outage_response

    if (outage := outage_kind(exc)) is not None:  # PostgreSQL or Redis down: 503 + Retry-After
        set_rollback()
        return outage_response(context.get("request"), outage, exc)
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        code = "unknown_field" if _has_code(exc, "unknown_field") else "invalid"
        response.data = {"code": code, "detail": _first_message(errors), "errors": errors}
        return response
    code = _CODES.get(type(exc))
    if code is None:
        code = getattr(exc, "default_code", "error")
    detail = exc.detail if isinstance(exc.detail, str) else _first_message(exc.detail)
    if isinstance(exc, exceptions.NotFound):
        detail = "Not found."  # never echo whether something exists elsewhere
    response.data = {"code": code, "detail": str(detail)}
    return response


def _has_code(exc: exceptions.ValidationError, code: str) -> bool:
    codes = exc.get_codes()

    def walk(node) -> bool:
        if isinstance(node, dict):
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return node == code

    return walk(codes)
