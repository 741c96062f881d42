"""Recent authentication ("sudo mode") for actions that mint long-lived credentials.

A signed-in browser session is not enough to create an API token: a token outlives sign-out, so
script injected into the page (XSS) or a borrowed unlocked laptop could turn a session into a
permanent credential. Creating a token over a session therefore needs one of:

- the account password in the same request (the API's ``password`` field, the token page's form), or
- a re-authentication recorded in this session within ``ACCOUNTS_REAUTH_SECONDS`` (5 minutes by
  default): confirming the password on the token page or changing it records one.

Signing in does **not** count as re-authentication (a session stolen right after sign-in would
otherwise qualify). API tokens cannot create tokens at all (``accounts.api.views``).

Hook for single sign-on: a future SSO provider calls :func:`reauth_record` with ``method="sso"``
after a successful step-up (e.g. OIDC ``prompt=login`` / ``max_age=0``); everything that asks
:func:`reauth_require` then accepts it for the same window. For SSO-only accounts (no usable
password) that is the only way in; :func:`reauth_require` says so in its error.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import update_session_auth_hash

from core.exceptions import DomainError

SESSION_KEY = "accounts.reauthenticated_at"
SESSION_METHOD_KEY = "accounts.reauthenticated_by"


def reauth_record(request, *, method: str = "password") -> None:
    """Remember in the session that its user proved who they are just now (password, later SSO)."""
    request.session[SESSION_KEY] = time.time()
    request.session[SESSION_METHOD_KEY] = method


def reauth_is_recent(request) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return False
    at = session.get(SESSION_KEY)
    return isinstance(at, int | float) and 0 <= time.time() - at <= settings.ACCOUNTS_REAUTH_SECONDS


def reauth_require(request, *, password: str | None) -> str:
    """Check recent authentication for `request.user`; return how it was proved ("password", "recent").

    A password, when given, is always checked (and recorded on success), even if a recent
    re-authentication exists: a wrong password is never silently ignored.
    """
    user = request.user
    if password:
        hash_before = user.password
        if not user.check_password(password):
            raise DomainError("wrong_password", "That is not your current password.", status_code=403)
        if getattr(request, "session", None) is not None:
            if user.password != hash_before:
                # check_password upgraded the stored hash (a new hasher or more iterations); the session
                # hash follows it, or this very session would be signed out with the others.
                update_session_auth_hash(request, user)
            reauth_record(request, method="password")
        return "password"
    if reauth_is_recent(request):
        return "recent"
    if not user.has_usable_password():
        detail = "Confirm your identity with your sign-in provider again, then retry."
    else:
        detail = "Confirm your password to create a token: send it as `password` with the request."
    raise DomainError("reauthentication_required", detail, status_code=403)
