"""Staff sessions end after an idle time and after a maximum lifetime; patients' do not."""

import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


class Clock:
    """timezone.now() under the test's control."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def staff_client(client, make_user, clock):
    client.force_login(make_user(is_superuser=True))
    assert client.get("/admin/").status_code == 200
    return client


def signed_out(response):
    return response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_staff_session_survives_29_idle_minutes(staff_client, clock):
    clock.advance(minutes=29)
    assert staff_client.get("/admin/").status_code == 200


def test_a_staff_session_ends_after_30_idle_minutes(staff_client, clock):
    clock.advance(minutes=31)

    assert signed_out(staff_client.get("/admin/"))
    assert "_auth_user_id" not in staff_client.session


def test_the_idle_time_comes_from_the_setting(staff_client, clock, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    clock.advance(minutes=6)
    assert signed_out(staff_client.get("/admin/"))


def test_a_busy_staff_session_still_ends_after_12_hours(staff_client, clock):
    for _ in range(12 * 60 // 20):  # a request every 20 minutes, up to 12 hours exactly
        clock.advance(minutes=20)
        assert staff_client.get("/admin/").status_code == 200
    clock.advance(minutes=20)

    assert signed_out(staff_client.get("/admin/"))
    assert "_auth_user_id" not in staff_client.session


def test_the_staff_cookie_expires_with_the_idle_time(staff_client):
    assert staff_client.session.get_expiry_age() == 30 * 60


def test_patient_sessions_keep_their_own_lifetime(client, settings, clock, submit):
    submit()  # a sent form is remembered in the session (opening the form stores nothing)
    assert settings.SESSION_COOKIE_NAME in client.cookies
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
