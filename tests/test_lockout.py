"""Sign-in lockout (django-axes): per username and address, silent about which accounts exist."""

import re

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def attempt(client, username, password, address="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_29_wrong_passwords_still_show_the_form(client, make_user):
    user = make_user("drwho")
    for _ in range(29):
        response = attempt(client, user.username, "wrong")
    assert response.status_code == 200
    assert attempt(client, user.username, "pw-for-tests").status_code == 302


def test_30_wrong_passwords_lock_the_account_from_that_address(client, make_user):
    user = make_user("drwho")
    for _ in range(30):
        response = attempt(client, user.username, "wrong")

    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    # Even the right password is refused now, from that address...
    assert attempt(client, user.username, "pw-for-tests").status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but not from another one.
    assert attempt(client, user.username, "pw-for-tests", address="198.51.100.2").status_code == 302


def test_the_lockout_reads_the_same_for_an_account_that_does_not_exist(client, make_user, settings):
    # The limit itself is tested above; what matters here is that the two pages match.
    settings.AXES_FAILURE_LIMIT = 3
    make_user("drwho")
    responses = {}
    for username in ("drwho", "nobody-by-this-name"):
        for _ in range(3):
            attempt(client, username, "wrong")
        responses[username] = attempt(client, username, "wrong")

    existing, missing = responses.values()
    assert existing.status_code == missing.status_code == 429
    assert without_nonce(existing) == without_nonce(missing)


def without_nonce(response):
    """The page with its per-response CSP nonce blanked (the only part meant to differ)."""
    return re.sub(r'nonce="[^"]+"', 'nonce=""', response.content.decode())


def test_staff_can_see_and_clear_a_lockout_in_the_admin(
    client, make_user, django_user_model, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    user = make_user("drwho")
    for _ in range(3):
        attempt(client, user.username, "wrong")
    assert attempt(client, user.username, "pw-for-tests").status_code == 429
    admin = django_user_model.objects.create_superuser("boss", password="pw-for-tests")
    client.force_login(admin)

    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "drwho" in listing.content.decode()
    pk = AccessAttempt.objects.get(username="drwho").pk
    client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
    )
    client.logout()

    assert not AccessAttempt.objects.exists()
    assert attempt(client, user.username, "pw-for-tests").status_code == 302
