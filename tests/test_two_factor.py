"""The staff second factor: who needs it, enrolment, verification, recovery codes, reset."""

import re
import subprocess
import sys

import pytest
from django.contrib.admin.models import LogEntry
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor
from screening.models import IntakeSubmission, SubmissionAccess

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor]

TWO_FACTOR = "/staff/two-factor/"
SUBMISSIONS = "/admin/screening/intakesubmission/"


def sign_in(client, user, password="pw"):
    """Sign in through the admin's password form, as a person would."""
    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": password}
    )
    assert response.status_code == 302, "the password was refused"
    return response


def current_code(device, steps_ahead=0):
    """The app's code; a code is accepted once, so a second sign-in uses the next one (within
    the device's tolerance of one step)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(client, user):
    """Go through enrolment; returns the recovery codes shown."""
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(TWO_FACTOR, {"token": current_code(device), "next": "/admin/"})
    assert response.status_code == 200
    return re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())


@pytest.fixture
def submission(submit):
    submit(full_name="Pat Patient")
    return IntakeSubmission.objects.get()


def test_clinical_staff_with_a_password_only_cannot_open_a_submission(
    client, clinician, submission
):
    sign_in(client, clinician)

    for url in (f"{SUBMISSIONS}{submission.pk}/change/", SUBMISSIONS, "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{TWO_FACTOR}?next=")
    assert not SubmissionAccess.objects.exists()


def test_first_sign_in_shows_a_qr_code_and_the_secret_as_text(client, clinician):
    sign_in(client, clinician)

    response = client.get(TWO_FACTOR)

    html = response.content.decode()
    device = TOTPDevice.objects.get(user=clinician, confirmed=False)
    assert re.search(r'<div class="qr-code"[^>]*><svg [^>]*viewBox', html)
    assert two_factor.secret_for_typing(device) in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_enrolment_with_the_apps_code_gives_recovery_codes_and_opens_submissions(
    client, clinician, submission
):
    sign_in(client, clinician)

    codes = enrol(client, clinician)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=clinician).confirmed
    assert client.get(f"{SUBMISSIONS}{submission.pk}/change/").status_code == 200


def test_a_wrong_code_does_not_enrol(client, clinician):
    sign_in(client, clinician)
    client.get(TWO_FACTOR)

    response = client.post(TWO_FACTOR, {"token": "000000x"})

    assert "That code was not accepted" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_next_sign_in_asks_for_a_code_and_accepts_the_apps_code(client, clinician):
    sign_in(client, clinician)
    enrol(client, clinician)
    client.logout()
    sign_in(client, clinician)

    html = client.get(TWO_FACTOR).content.decode()
    assert 'class="qr-code"' not in html  # no new enrolment: the secret is never shown again
    device = TOTPDevice.objects.get(user=clinician)
    replayed = client.post(TWO_FACTOR, {"token": current_code(device), "next": SUBMISSIONS})
    assert "That code was not accepted" in replayed.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # skip the wait that the failure above imposes
    device.save()
    response = client.post(
        TWO_FACTOR, {"token": current_code(device, steps_ahead=1), "next": SUBMISSIONS}
    )

    assert response.status_code == 302 and response["Location"] == SUBMISSIONS
    assert client.get(SUBMISSIONS).status_code == 200


def test_a_recovery_code_works_once(client, clinician):
    sign_in(client, clinician)
    code = enrol(client, clinician)[0]
    client.logout()

    sign_in(client, clinician)
    assert client.post(TWO_FACTOR, {"token": code.upper()}).status_code == 302
    client.logout()
    sign_in(client, clinician)
    response = client.post(TWO_FACTOR, {"token": code})

    assert "That code was not accepted" in response.content.decode()


def test_next_never_leads_off_site(client, clinician):
    sign_in(client, clinician)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=clinician)

    response = client.post(
        TWO_FACTOR, {"token": current_code(device), "next": "https://evil.example/"}
    )

    assert 'href="/admin/"' in response.content.decode()


def test_production_asks_every_staff_account(client, make_staff):
    author = make_staff("Authors")
    sign_in(client, author)

    assert client.get("/admin/").status_code == 302


def test_turned_off_in_production_still_asks_superusers_and_clinical_staff(
    client, settings, make_staff, clinician
):
    settings.STAFF_2FA_REQUIRED = False
    author = make_staff("Authors")
    admin = make_staff(superuser=True)

    sign_in(client, author)
    assert client.get("/admin/").status_code == 200
    for user in (clinician, admin):
        client.logout()
        sign_in(client, user)
        assert client.get("/admin/")["Location"].startswith(TWO_FACTOR)


def test_development_mode_lets_demo_accounts_in_with_a_password(
    client, settings, make_staff, clinician
):
    settings.DEBUG = True
    settings.STAFF_2FA_REQUIRED = False
    for user in (clinician, make_staff(superuser=True)):
        client.logout()
        sign_in(client, user)
        assert client.get("/admin/").status_code == 200


def test_the_demo_settings_turn_the_second_factor_off_and_an_env_var_turns_it_on(tmp_path):
    script = (
        "import os, django\n"
        "from clinic.devmode import enable_development_mode\n"
        "enable_development_mode(env_file=__import__('pathlib').Path(os.devnull))\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'clinic.settings'\n"
        "from django.conf import settings\n"
        "print(settings.DEBUG, settings.STAFF_2FA_REQUIRED)\n"
    )

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", **env},
        ).stdout.split()

    assert run() == ["True", "False"]
    assert run(STAFF_2FA_REQUIRED="on") == ["True", "True"]


def test_patients_are_not_asked(client, questionnaire):
    assert client.get("/intake/").status_code == 200
    assert client.get("/").status_code == 200


def test_a_superuser_resets_another_accounts_second_factor_and_it_is_logged(
    client, make_staff, clinician
):
    other = client.__class__()
    sign_in(other, clinician)
    enrol(other, clinician)
    admin = make_staff(superuser=True)
    sign_in(client, admin)
    enrol(client, admin)

    response = client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [clinician.pk]},
        follow=True,
    )

    assert "Second factor reset for 1 user" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert not StaticDevice.objects.filter(user=clinician).exists()
    entry = LogEntry.objects.get(object_id=str(clinician.pk))
    assert entry.user == admin and "Reset second factor" in entry.change_message
    # The clinician's open session must enrol again before going on.
    assert other.get(SUBMISSIONS)["Location"].startswith(TWO_FACTOR)


def test_only_a_superuser_is_offered_the_reset(client, make_staff, clinician):
    manager = make_staff(permissions=["view_user", "change_user"])
    sign_in(client, manager)
    enrol(client, manager)

    response = client.get("/admin/auth/user/")
    assert response.status_code == 200
    assert "reset_second_factor" not in response.content.decode()
    client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [clinician.pk]},
    )
    assert not LogEntry.objects.exists()
