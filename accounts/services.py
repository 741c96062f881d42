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
from .signals import credentials_revoked

User = get_user_model()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, via: str = "internal", reauth: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext key, which is never retrievable again.

    Callers that act for a person (the API over a session, the token page) first check recent
    authentication (accounts.reauth.reauth_require) and the creation rate
    (api_token_create_throttle); `via` and `reauth` say which, for the audit log.
    """
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
    changes = {"name": name, "via": via}
    if reauth:
        changes["reauth"] = reauth
    audit_record(actor=user, organisation_id=None, action="api_token.created", target=token, changes=changes)
    return token, key


def api_token_create_throttle(*, user: User) -> None:
    """Count one token-creation attempt of `user`; refuse (429) past the per-user limit.

    Every attempt counts, wrong passwords included, so the endpoint is no password oracle either.
    The window starts with the first attempt after the previous one expired.
    """
    key = f"token-create-attempts:{user.pk}"
    window = settings.ACCOUNTS_TOKEN_CREATE_WINDOW_SECONDS
    if cache.add(key, 1, timeout=window):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
            count = 1
    if count > settings.ACCOUNTS_TOKEN_CREATE_MAX:
        raise DomainError(
            "throttled",
            f"Too many token requests: at most {settings.ACCOUNTS_TOKEN_CREATE_MAX} per "
            f"{window // 60} minutes. Try again later.",
            status_code=429,
        )


def _tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.active().filter(user=user).update(revoked_at=timezone.now())


def _announce_revocation(*, user: User, reason: str, tokens_revoked: int) -> None:
    transaction.on_commit(
        lambda: credentials_revoked.send(
            sender=User, user_id=user.pk, reason=reason, tokens_revoked=tokens_revoked
        )
    )


@transaction.atomic
def user_sign_out_everywhere(*, user: User, revoke_tokens: bool) -> dict:
    """The person ends every browser session of theirs (this one included) and, if asked, every token.

    Sessions end by raising `session_generation`, which is part of the session hash Django checks on
    each request: it works for every session engine and needs no list of sessions.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    user.session_generation += 1
    user.save(update_fields=["session_generation"])
    tokens = _tokens_revoke_all(user=user) if revoke_tokens else 0
    result = {"sessions_revoked": True, "tokens_revoked": tokens}
    _announce_revocation(user=user, reason="signed_out_everywhere", tokens_revoked=tokens)
    audit_record(
        actor=user, organisation_id=None, action="user.signed_out_everywhere", target=user, changes=result
    )
    return result


@transaction.atomic
def user_credentials_revoke(*, user: User, actor: User, organisation_id: int | None) -> dict:
    """An administrator ends every session and revokes every API token of `user` (lost laptop, leaver,
    suspected compromise). Audited in the administrator's organisation. The password is unchanged:
    the person signs in again with it (reset it in the admin if it is the password that leaked)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.session_generation += 1
    user.save(update_fields=["session_generation"])
    result = {"sessions_revoked": True, "tokens_revoked": _tokens_revoke_all(user=user)}
    _announce_revocation(user=user, reason="credentials_revoked", tokens_revoked=result["tokens_revoked"])
    audit_record(
        actor=actor,
        organisation_id=organisation_id,
        action="user.credentials_revoked",
        target=user,
        changes={"username": user.get_username(), **result},
    )
    return result


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
def user_password_change(*, user: User, new_password: str, revoke_tokens: bool = False) -> dict:
    """Set a new password (already checked by Django's validators in the form) and audit it.

    Every session of the user ends: the session hash Django checks on each request is an HMAC of the
    password hash. The page that calls this keeps its own session (update_session_auth_hash). With
    `revoke_tokens`, every active API token is revoked too (the password page ticks it by default).
    """
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens = _tokens_revoke_all(user=user) if revoke_tokens else 0
    result = {"other_sessions_revoked": True, "tokens_revoked": tokens}
    _announce_revocation(user=user, reason="password_changed", tokens_revoked=tokens)
    audit_record(
        actor=user, organisation_id=None, action="user.password_changed", target=user, changes=result
    )
    return result


def user_account_scrub(*, user: User) -> dict:
    """Forget a person's personal fields and end every credential, keeping the row (and its id):
    username `deleted-<id>`, email and names emptied, password unusable, inactive, every session
    ended (session generation raised) and every API token revoked. Idempotent. The caller
    (projects.services.accounts.account_delete) checks permission, ends memberships and audits; it
    runs inside the caller's transaction."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        return {"already_deleted": True, "tokens_revoked": 0}
    user.username = f"deleted-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.session_generation += 1
    user.deleted_at = timezone.now()
    user.save()
    tokens = _tokens_revoke_all(user=user)
    _announce_revocation(user=user, reason="account_deleted", tokens_revoked=tokens)
    return {"already_deleted": False, "tokens_revoked": tokens}
