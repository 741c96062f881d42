"""Account changes that end a person's live feed sockets (connected in ProjectsConfig.ready).

- Sign-out: the sockets of that session close (4401).
- Password change or deactivation: every socket of the account re-checks its session, which no
  longer matches (Django's session hash) or no longer signs anyone in, and closes (4401); the tab
  that changed the password reconnects with its renewed session.
- Sessions revoked (sign out everywhere, an admin's revocation: accounts.signals.credentials_revoked):
  every socket of the account re-checks its session and closes (4401) if it no longer signs anyone in.
Revoking sessions and tokens themselves is accounts' job; this only closes sockets.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save

from accounts.signals import credentials_revoked
from core.realtime import feed_evict_on_commit

_WATCHED = ("password", "is_active")


def _on_logged_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        feed_evict_on_commit(user.pk, reason="signed_out", session_key=session_key)


def _remember_credentials(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and not set(_WATCHED) & set(update_fields)):
        instance._feed_credentials_changed = False
        return
    before = sender.objects.filter(pk=instance.pk).values_list(*_WATCHED).first()
    if before is None:
        instance._feed_credentials_changed = False
        return
    # A first password on an account that had none (just created) cannot end any sign-in.
    had_password = bool(before[0]) and not before[0].startswith("!")
    password_changed = had_password and before[0] != instance.password
    instance._feed_credentials_changed = password_changed or before[1] != instance.is_active


def _evict_on_credentials_change(sender, instance, created, **kwargs) -> None:
    if not created and getattr(instance, "_feed_credentials_changed", False):
        instance._feed_credentials_changed = False
        feed_evict_on_commit(instance.pk, reason="credentials_changed")


def _on_credentials_revoked(sender, user_id, reason, **kwargs) -> None:
    # Sent after commit: the sockets' re-check reads the revoked state.
    feed_evict_on_commit(user_id, reason="credentials_revoked")


def connect() -> None:
    user_model = get_user_model()
    user_logged_out.connect(_on_logged_out, dispatch_uid="feed-evict-logout")
    credentials_revoked.connect(_on_credentials_revoked, dispatch_uid="feed-evict-revoked")
    pre_save.connect(_remember_credentials, sender=user_model, dispatch_uid="feed-credentials-before")
    post_save.connect(_evict_on_credentials_change, sender=user_model, dispatch_uid="feed-credentials-after")
