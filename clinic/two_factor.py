"""Who needs a second factor, and enrolling or resetting one (django-otp devices).

Staff prove a second factor with a TOTP authenticator app (django_otp.plugins.otp_totp) or, when
the phone is lost, one of ten single-use recovery codes (django_otp.plugins.otp_static).
`clinic.middleware.StaffSecondFactorMiddleware` sends a staff member who signed in with a
password only to /staff/two-factor/, which enrols or verifies them.
"""

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils.safestring import mark_safe
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.auth_backends import in_group
from clinic.roles import CLINICAL_STAFF

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def second_factor_required(user) -> bool:
    """Whether this signed-in user must prove a second factor before using the site as staff.

    Every staff account when STAFF_2FA_REQUIRED is on (the default whenever DEBUG is off). With
    it turned off on a production site (DEBUG off), superusers and Clinical staff, who see
    health data, still need one: no setting exempts them. Only development mode (DEBUG on, the
    demo) lets them in with a password alone.
    """
    if not user.is_authenticated or not (user.is_staff or user.is_superuser):
        return False
    if settings.STAFF_2FA_REQUIRED:
        return True
    if settings.DEBUG:
        return False
    return user.is_superuser or in_group(user, CLINICAL_STAFF)


def has_second_factor(user) -> bool:
    """Whether the user has finished enrolling (a confirmed authenticator app)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed authenticator device being enrolled (one per user, kept across reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (rendered locally, no network)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    # Markup generated here from the device's own URL, never from typed input.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308


def secret_for_typing(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an app that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def confirm_enrolment(device: TOTPDevice) -> list[str]:
    """Confirm the authenticator and issue fresh recovery codes; return the codes to show once."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(device.user)


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new single-use ones."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify(user, token: str):
    """The confirmed device (authenticator or recovery code) that accepts `token`, or None.

    Each device throttles its own failures (growing delays), so guessing codes is slow.
    """
    token = "".join(token.split()).lower()
    for device in devices_for_user(user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            return device
    return None


@transaction.atomic
def reset_second_factor(user, *, by) -> int:
    """Delete all of `user`'s devices so they enrol again at next sign-in; log it. Returns count.

    Their current sessions lose verification at once (django-otp finds no device for them).
    """
    deleted = 0
    for model in (TOTPDevice, StaticDevice):
        deleted += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=f"Reset second factor ({deleted} device(s) removed); "
        "the user enrols again at next sign-in.",
        single_object=True,
    )
    return deleted
