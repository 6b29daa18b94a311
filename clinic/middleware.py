"""Site-wide middleware: a Permissions-Policy header, and staff sign-in rules (second factor,
idle and maximum session time). Patients, who never sign in, are not touched by the staff rules.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from clinic import two_factor


class PermissionsPolicyMiddleware:
    """Send `Permissions-Policy` (settings.PERMISSIONS_POLICY) on every response that lacks one."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allowed)})"
            for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


def _signed_in_staff(request):
    """The request's staff user, or None; reads the session only if the browser sent one,
    so anonymous public pages stay cacheable (no `Vary: Cookie`)."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    user = request.user
    if user.is_authenticated and (user.is_staff or user.is_superuser):
        return user
    return None


class StaffSessionMiddleware:
    """End staff sessions after STAFF_SESSION_IDLE_MINUTES without a request, and after
    STAFF_SESSION_MAX_HOURS in all, whatever the activity. Place after AuthenticationMiddleware.
    """

    LAST_SEEN_KEY = "staff_last_seen_at"
    SIGNED_IN_KEY = "staff_signed_in_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = _signed_in_staff(request)
        if user is not None:
            now = timezone.now().timestamp()
            session = request.session
            signed_in_at = session.setdefault(self.SIGNED_IN_KEY, now)
            last_seen_at = session.get(self.LAST_SEEN_KEY, now)
            idle = now - last_seen_at > settings.STAFF_SESSION_IDLE_MINUTES * 60
            too_old = now - signed_in_at > settings.STAFF_SESSION_MAX_HOURS * 3600
            if idle or too_old:
                logout(request)
                messages.info(
                    request,
                    "You were signed out after "
                    + (
                        f"{settings.STAFF_SESSION_IDLE_MINUTES} minutes without activity."
                        if idle
                        else f"{settings.STAFF_SESSION_MAX_HOURS} hours. Please sign in again."
                    ),
                )
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            session[self.LAST_SEEN_KEY] = now
            # The cookie dies with the idle time too, so a closed laptop does not keep it.
            session.set_expiry(settings.STAFF_SESSION_IDLE_MINUTES * 60)
        return self.get_response(request)


class StaffSecondFactorMiddleware:
    """Send staff who need a second factor and have not proved one to /staff/two-factor/.

    Everything else (admin, staff views, exports, even public pages) waits until they do; only
    the two-factor page itself and signing out stay open. Place after django-otp's OTPMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = _signed_in_staff(request)
        if (
            user is not None
            and not user.is_verified()
            and two_factor.second_factor_required(user)
            and request.path not in {reverse("two_factor"), reverse("admin:logout")}
        ):
            return redirect(
                f"{reverse('two_factor')}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)
