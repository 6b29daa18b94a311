"""/staff/two-factor/: enrol an authenticator app on first sign-in, or prove the second factor."""

import django_otp
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from clinic import two_factor
from clinic.forms import SecondFactorForm

WRONG_CODE = (
    "That code was not accepted. Check the time on your phone and try the newest code; "
    "after several wrong codes you must wait a little longer before each try."
)


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index")


def _signed_in(request, device):
    # A new session key for the now fully signed-in session (no fixation across the upgrade).
    request.session.cycle_key()
    django_otp.login(request, device)


@never_cache
@sensitive_post_parameters("token")
@login_required(login_url="admin:login")
def second_factor(request):
    """Verify a code, or (no confirmed authenticator yet) enrol one and show recovery codes."""
    user = request.user
    context = {**admin.site.each_context(request), "next": _next_url(request)}
    form = SecondFactorForm(request.POST or None)
    if two_factor.has_second_factor(user):
        context["title"] = "Confirm it is you"
        if form.is_valid():
            device = two_factor.verify(user, form.cleaned_data["token"])
            if device is not None:
                _signed_in(request, device)
                return redirect(context["next"])
            form.add_error("token", WRONG_CODE)
        return TemplateResponse(request, "clinic/two_factor_verify.html", {**context, "form": form})

    device = two_factor.pending_totp_device(user)
    context["title"] = "Set up your second factor"
    if form.is_valid():
        token = "".join(form.cleaned_data["token"].split())
        if device.verify_is_allowed()[0] and device.verify_token(token):
            codes = two_factor.confirm_enrolment(device)
            _signed_in(request, device)
            return TemplateResponse(
                request,
                "clinic/two_factor_recovery_codes.html",
                {**context, "title": "Your recovery codes", "codes": codes},
            )
        form.add_error("token", WRONG_CODE)
    return TemplateResponse(
        request,
        "clinic/two_factor_enrol.html",
        {
            **context,
            "form": form,
            "qr_code": two_factor.qr_code_svg(device),
            "secret": two_factor.secret_for_typing(device),
        },
    )
