"""Writes about people: API tokens, passwords, sign-in throttling."""

import secrets
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_record
from core.exceptions import DomainError, NotFound

from .models import ApiToken

User = get_user_model()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext key, which is never retrievable again."""
    name = name.strip()
    if not name:
        raise DomainError("invalid_name", "Give the token a name, so you can recognise it later.")
    if ApiToken.objects.active().filter(user=user, name=name).exists():
        raise DomainError(
            "duplicate_name", f"You already have an active token named {name!r}.", status_code=409
        )
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user, name=name, key_prefix=key[:12], key_hash=ApiToken.hash_key(key)
            )
    except IntegrityError as error:  # a concurrent create with the same name
        raise DomainError(
            "duplicate_name", f"You already have an active token named {name!r}.", status_code=409
        ) from error
    audit_record(
        actor=user, organisation_id=None, action="api_token.created", target=token, changes={"name": name}
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens. Idempotent: revoking twice keeps the first revocation time."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, organisation_id=None, action="api_token.revoked", target=token)
    return token


@transaction.atomic
def user_create(
    *, username: str, password: str, email: str = "", first_name: str = "", last_name: str = ""
) -> User:
    """Create an account. Django's password validators apply; usernames are unique (case-insensitive)."""
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError("username_taken", f"The username {username!r} is taken.", status_code=409)
    if email and User.objects.filter(email__iexact=email).exists():
        raise DomainError("email_taken", "An account with this email address exists.", status_code=409)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise DomainError("weak_password", " ".join(error.messages)) from error
    user.set_password(password)
    user.save()
    return user


# --- Sign-in throttling: failures per (username, client address) within a window ---------------------


def _login_key(username: str, address: str) -> str:
    # NFKC, as Django's UsernameField does: a fullwidth "ada" signs in as "ada" and must share its count.
    return f"login-failures:{unicodedata.normalize('NFKC', username).strip().lower()}:{address}"


def login_is_locked(*, username: str, address: str) -> bool:
    return cache.get(_login_key(username, address), 0) >= settings.ACCOUNTS_LOGIN_MAX_FAILURES


def login_failure_record(*, username: str, address: str) -> int:
    """Count a failed sign-in. The window restarts with the first failure after it expired."""
    key = _login_key(username, address)
    if cache.add(key, 1, timeout=settings.ACCOUNTS_LOGIN_LOCKOUT_SECONDS):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.ACCOUNTS_LOGIN_LOCKOUT_SECONDS)
        return 1


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_login_key(username, address))


@transaction.atomic
def user_password_change(*, user: User, new_password: str) -> None:
    """Set a new password (already checked by Django's validators in the form) and audit it.
    Other sessions of the user are logged out by Django's session hash check."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(actor=user, organisation_id=None, action="user.password_changed", target=user)
