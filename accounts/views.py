"""Server-rendered account pages: sign-in (throttled), sign-out, password change, API tokens."""

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError

from . import reauth, services
from .forms import ApiTokenCreateForm, PasswordChangeWithRevokeForm, SignOutEverywhereForm
from .models import ApiToken


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view, refusing a username+address pair after repeated failures."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        if services.login_is_locked(username=username, address=_client_address(request)):
            # An unbound form: a locked-out attempt is not even checked (no password hashing).
            form = self.get_form_class()(self.request, initial={"username": username})
            context = self.get_context_data(form=form, locked=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.login_failure_record(
            username=self.request.POST.get("username", ""), address=_client_address(self.request)
        )
        return super().form_invalid(form)

    def form_valid(self, form):
        services.login_failures_clear(
            username=form.get_user().get_username(), address=_client_address(self.request)
        )
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change page (validators included); the write goes through the service."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeWithRevokeForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["active_tokens"] = ApiToken.objects.active().filter(user=self.request.user).count()
        context["sign_out_form"] = SignOutEverywhereForm(auto_id="everywhere_%s")
        return context

    def form_valid(self, form):
        result = services.user_password_change(
            user=self.request.user,
            new_password=form.cleaned_data["new_password1"],
            revoke_tokens=form.cleaned_data["revoke_tokens"],
        )
        update_session_auth_hash(self.request, self.request.user)  # keep this session, end the others
        reauth.reauth_record(self.request, method="password")
        tokens = result["tokens_revoked"]
        messages.success(
            self.request,
            "Password changed. Every other session was signed out"
            + (
                f"; {tokens} API token{'s' if tokens != 1 else ''} revoked."
                if tokens
                else "; API tokens kept."
            ),
        )
        return redirect("password_change_done")


@login_required
@require_POST
def sign_out_everywhere(request):
    """End every session of the user, this one included, and (by default) revoke their API tokens."""
    form = SignOutEverywhereForm(request.POST)
    revoke_tokens = form.is_valid() and form.cleaned_data["revoke_tokens"]
    result = services.user_sign_out_everywhere(user=request.user, revoke_tokens=revoke_tokens)
    logout(request)
    tokens = result["tokens_revoked"]
    messages.success(
        request,
        "You were signed out everywhere"
        + (f" and {tokens} API token{'s' if tokens != 1 else ''} revoked." if tokens else "."),
    )
    return redirect("login")


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = ApiTokenCreateForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.api_token_create_throttle(user=request.user)
            method = reauth.reauth_require(request, password=form.cleaned_data["password"])
            token, new_key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], via="page", reauth=method
            )
        except DomainError as error:
            form.add_error("password" if error.code == "wrong_password" else "name", error.message)
            status = error.status_code
        else:
            messages.success(request, f"Token “{token.name}” created. Copy it now: it is not shown again.")
            form = ApiTokenCreateForm()
    elif request.method == "POST":
        status = 400
    tokens = ApiToken.objects.filter(user=request.user)
    context = {"form": form, "tokens": tokens, "new_key": new_key}
    return render(request, "accounts/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = services.api_token_revoke(user=request.user, token_id=token_id)
    messages.success(request, f"Token “{token.name}” revoked. Requests using it now fail.")
    return redirect("token-list")
