"""What a patient sees when the database fails while their form is stored (fast checks; the
real failure, on a private PostgreSQL, is in test_fault_tolerance.py)."""

from unittest import mock

import pytest
from django.db import OperationalError
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
