"""People and their personal API tokens."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac


class User(AbstractUser):
    """A person. Deactivated (is_active=False) rather than deleted once they have audit history."""

    session_generation = models.PositiveIntegerField(
        default=0,
        help_text="Raised to sign the person out of every browser session at once (sign out everywhere, "
        "revoke all credentials). Part of the session hash, so older sessions stop verifying.",
    )

    # Set when the account was deleted (projects.services.accounts.account_delete): personal fields are
    # scrubbed, the row and its id stay so release lineage keeps the same pseudonym.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~models.Q(email=""), name="user_email_unique"
            ),
        ]

    def _get_session_auth_hash(self, secret=None):
        """Django's session hash (an HMAC of the password hash), with the session generation mixed in.

        Django checks it on every request (django.contrib.auth.get_user), so a new password or a raised
        generation signs out every session whatever the session engine. Generation 0 keeps Django's
        exact value, so sessions from before this field existed stay valid.
        """
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        value = self.password if not self.session_generation else f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the secret is shown once, at creation.

    SHA-256 (not a slow password hash) is right here: the secret is 256 random bits, so there is
    nothing to brute-force, and every API request must verify it quickly.
    """

    PREFIX = "tsr_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12)  # first characters, shown in lists to tell tokens apart
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="token_active_name_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
