"""The "API tokens" page (issue 16): a person's own tokens, a form to make one (its secret is
shown once, on the answer to that form) and a confirmed revoke. The rules are in
tasks_app/tokens.py, shared with the API and `manage.py api_token`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tasks_app import tokens
from tasks_app.forms import ApiTokenForm, add_service_errors


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens and the form; POST: make a token and show its secret once."""
    form = ApiTokenForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = tokens.token_create(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = ApiTokenForm()
    context = {
        "tokens": tokens.tokens_of(request.user),
        "form": form,
        "created": created,
        "secret": secret,
    }
    return render(request, "tasks_app/api_tokens.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, uid) -> HttpResponse:
    """GET asks for confirmation; POST revokes the token. Only one's own tokens are found."""
    token = tokens.tokens_of(request.user).filter(uid=uid).first()
    if token is None:
        raise Http404(_("You have no such token."))
    if request.method == "POST":
        tokens.token_revoke(user=request.user, uid=uid)
        messages.success(
            request,
            _("The token “%(name)s” was revoked: it no longer works.") % {"name": token.name},
        )
        return redirect("tasks_app:api-tokens")
    return render(request, "tasks_app/api_token_revoke.html", {"token": token})
