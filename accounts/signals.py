"""Signals other apps may listen to. Sent after the transaction commits, never for a rolled-back write."""

from django.dispatch import Signal

# A person's sessions ended (password change: all but the current one; sign out everywhere and an
# admin's revocation: all). kwargs: user_id, reason ("password_changed" | "signed_out_everywhere" |
# "credentials_revoked"), tokens_revoked (int). Live connections (websockets) should close on it.
credentials_revoked = Signal()
