from django import forms
from django.contrib.auth.forms import PasswordChangeForm


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="For example: training-pipeline")
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="A token is a long-lived credential, so creating one needs your password.",
    )


class PasswordChangeWithRevokeForm(PasswordChangeForm):
    """Django's password change form, plus whether to revoke API tokens too (ticked by default)."""

    revoke_tokens = forms.BooleanField(
        required=False,
        initial=True,
        label="Also revoke all my API tokens",
        help_text="Recommended if you change your password because it may have leaked: a token keeps "
        "working after a password change. Untick to keep scripts running; you can revoke tokens one by "
        "one on the API tokens page.",
    )


class SignOutEverywhereForm(forms.Form):
    revoke_tokens = forms.BooleanField(
        required=False,
        initial=True,
        label="Also revoke all my API tokens",
        help_text="Scripts using them stop working.",
    )
