"""What a patient sees when the database fails while their form is stored (fast checks; the
real failure, on a private PostgreSQL, is in test_fault_tolerance.py)."""

from unittest import mock

import pytest
import redis
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client

from screening import fallback, submissions
from screening.models import IntakeSubmission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]

URGENT_HEADING = "Please get urgent medical help now"


def test_store_failure_shows_the_urgent_advice_with_the_typed_answers(client, intake_data):
    data = intake_data(q_saddle_numbness="yes", q_tried_notes="Heat pads help.")
    with mock.patch.object(submissions, "store", side_effect=OperationalError("server closed")):
        response = client.post("/intake/", data)
    page = response.content.decode()
    assert response.status_code == 503
    assert "We could not save your form" in page
    assert URGENT_HEADING in page
    assert "Heat pads help." in page and "Alex Example" in page
    assert not IntakeSubmission.objects.exists()
    # Sent again once the database answers: stored once.
    assert client.post("/intake/", data).status_code == 302
    assert IntakeSubmission.objects.count() == 1


def test_store_failure_with_routine_answers_shows_no_urgent_advice(client, intake_data):
    with mock.patch.object(submissions, "store", side_effect=OperationalError("server closed")):
        response = client.post("/intake/", intake_data())
    assert response.status_code == 503
    assert "We could not save your form" in response.content.decode()
    assert URGENT_HEADING not in response.content.decode()


def test_signed_advice_is_only_for_its_own_form():
    form_id, other_id = (
        "8e27e80d-1a41-4dd1-8b06-a1c684f414e0",
        "00000000-0000-0000-0000-000000000000",
    )
    token = fallback.advice_token(form_id, "urgent", ["Numbness needs checking today."])
    assert fallback.read_advice_token(token, form_id) == fallback.Advice(
        "urgent", ["Numbness needs checking today."]
    )
    assert fallback.read_advice_token(token, other_id) is None
    assert fallback.read_advice_token(token[:-2] + "xx", form_id) is None
    assert fallback.read_advice_token(None, form_id) is None


def test_copied_result_link_opens_nothing_while_the_database_is_up(client, submit):
    location = submit(q_saddle_numbness="yes")["Location"]
    assert "advice=" in location
    assert Client().get(location).status_code == 404
    assert client.get(location).status_code == 200


def _database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def test_with_the_database_cache_a_database_outage_still_gives_the_advice(
    client, intake_data, settings
):
    # The README offers the database cache for the rate limit; it fails with the database.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "clinic_cache",
        }
    }
    call_command("createcachetable", verbosity=0)
    fallback.forget()
    assert client.get("/intake/").status_code == 200  # the questionnaire is remembered
    with connection.execute_wrapper(_database_down):
        response = client.post("/intake/", intake_data(q_bladder_bowel="yes"))
    assert response.status_code == 503
    page = response.content.decode()
    assert URGENT_HEADING in page and "Alex Example" in page
    assert not IntakeSubmission.objects.exists()


def test_with_the_shared_cache_unreachable_a_form_is_stored_and_its_result_shown(
    client, intake_data, settings
):
    # Redis down (nothing listens on port 1): sessions live in the database alone, and the
    # rate limit does not apply until the cache is back.
    settings.CACHES = {
        "default": {
            "BACKEND": "clinic.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.SESSION_ENGINE = "clinic.resilient_cached_sessions"
    assert client.get("/intake/").status_code == 200
    data = intake_data(q_bladder_bowel="yes")
    response = client.post("/intake/", data)
    assert response.status_code == 302
    submission = IntakeSubmission.objects.get()
    result = client.get(response["Location"])
    assert result.status_code == 200 and URGENT_HEADING in result.content.decode()
    # The same form again (a double click): still one, and its result again.
    again = client.post("/intake/", data)
    assert again.status_code == 302 and IntakeSubmission.objects.get() == submission


def test_cached_sessions_use_the_database_alone_while_the_cache_is_unreachable(settings):
    from clinic.resilient_cached_sessions import SessionStore

    settings.CACHES = {
        "default": {
            "BACKEND": "clinic.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    store = SessionStore()
    store["who"] = "a patient"
    store.save()
    key = store.session_key
    assert SessionStore(key)["who"] == "a patient"
    assert SessionStore().exists(key)
    # Signing out fails visibly and changes nothing: after a brief cache error the cache's
    # copy could still be served.
    with pytest.raises(redis.exceptions.ConnectionError):
        SessionStore(key).delete()
    assert SessionStore(key)["who"] == "a patient"


def test_signing_out_when_the_cache_cannot_drop_its_copy_fails_and_changes_nothing(
    settings, client, make_staff
):
    from django.core.cache.backends.locmem import LocMemCache

    from clinic.resilient_cached_sessions import SessionStore

    settings.SESSION_ENGINE = "clinic.resilient_cached_sessions"
    client.force_login(make_staff(superuser=True))
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.raise_request_exception = False
    with mock.patch.object(LocMemCache, "delete", side_effect=ConnectionError("timeout")):
        assert client.post("/admin/logout/").status_code == 500
    assert "_auth_user_id" in SessionStore(key).load()  # still signed in, and told so
    assert client.post("/admin/logout/").status_code == 200
    assert "_auth_user_id" not in SessionStore(key).load()
