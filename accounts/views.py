"""Server-rendered account pages: sign-in (throttled), sign-out, password change, API tokens."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError

from . import services
from .forms import ApiTokenCreateForm
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

    def form_valid(self, form):
        services.user_password_change(user=self.request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, self.request.user)
        return redirect("password_change_done")


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = ApiTokenCreateForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            form.add_error("name", error.message)
            status = error.status_code
        else:
            messages.success(request, f"Token “{token.name}” created. Copy it now: it is not shown again.")
            form = ApiTokenCreateForm()
    elif request.method == "POST":
        status = 400
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key}, status=status
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = services.api_token_revoke(user=request.user, token_id=token_id)
    messages.success(request, f"Token “{token.name}” revoked. Requests using it now fail.")
    return redirect("token-list")
