"""The same form sent again (back and resend, refresh, another tab): one submission, safe advice."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from screening.models import IntakeSubmission, Outcome, SubmissionNote
from screening.views import FORM_COOKIE, RESEND_WINDOW, form_cookie_value

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]


def result_path(response):
    """The result page's path, without the signed advice its address also carries."""
    return response["Location"].split("?")[0]


URGENT_HEADING = "Please get urgent medical help now"
NOT_SAVED = "Your changed answers have not been saved"


@pytest.fixture(autouse=True)
def clinic_phone():
    from clinic.models import ClinicDetails

    details = ClinicDetails.load()
    details.phone = "01632 960000"
    details.save()


def page_token(client, url="/intake/"):
    html = client.get(url).content.decode()
    return re.search(r'name="token" value="([0-9a-f-]+)"', html).group(1), html


def test_the_form_page_keeps_its_token_until_sent_and_for_a_while_after(client, intake_data):
    token, html = page_token(client)
    assert page_token(client)[0] == token  # reloaded before sending
    assert 'id="already-sent"' not in html
    client.post("/intake/", intake_data(token=token))
    again, html = page_token(client)
    assert again == token
    assert "You sent this form at" in html
    assert "01632 960000" in html
    # Someone else filling in a form on this browser starts afresh.
    assert page_token(client, "/intake/?new=1")[0] != token
    # So does anyone once the window has passed.
    sent_at = timezone.now() - RESEND_WINDOW - timedelta(minutes=1)
    client.cookies[FORM_COOKIE] = form_cookie_value(
        {"token": token, "issued_at": sent_at.isoformat(), "sent_at": sent_at.isoformat()}
    )
    fresh, html = page_token(client)
    assert fresh != token
    assert 'id="already-sent"' not in html


def test_another_browser_gets_its_own_token(client):
    assert page_token(client)[0] != page_token(Client())[0]


def test_back_and_resend_with_the_same_answers_stores_nothing_more(client, intake_data):
    token, _html = page_token(client)
    data = intake_data(token=token)
    first = client.post("/intake/", data)
    back, _html = page_token(client)  # Back fetches the form page again
    second = client.post("/intake/", intake_data(token=back))
    assert result_path(second) == result_path(first)
    assert IntakeSubmission.objects.count() == 1
    assert not SubmissionNote.objects.exists()
    assert NOT_SAVED not in client.get(second["Location"]).content.decode()
    assert DBTaskResult.objects.count() == 1


def test_resend_with_more_urgent_answers_shows_urgent_advice_and_flags_the_submission(
    client, intake_data
):
    data = intake_data()
    first = client.post("/intake/", data)
    submission = IntakeSubmission.objects.get()
    assert submission.outcome == Outcome.ROUTINE
    response = client.post("/intake/", {**data, "q_saddle_numbness": "yes"})
    assert result_path(response) == result_path(first) and "changed=1" in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert URGENT_HEADING in html
    assert NOT_SAVED in html
    assert "Please call the clinic on" in html and 'href="tel:01632960000"' in html
    assert "nerves at the base of the spine" in html  # why: the new answer's explanation
    assert "Alex Example" not in html
    # Nothing new stored, the stored answers unchanged, the escalation recorded on the form,
    # and staff emailed again at the new outcome.
    assert IntakeSubmission.objects.count() == 1
    assert DBTaskResult.objects.count() == 2
    submission.refresh_from_db()
    assert submission.outcome == Outcome.ROUTINE
    assert {a["key"]: a["value"] for a in submission.answers}["saddle_numbness"] == "no"
    assert submission.escalated_outcome == Outcome.URGENT
    assert submission.escalated_at is not None
    assert [flag["key"] for flag in submission.escalated_flags] == ["saddle_numbness"]
    assert submission.current_outcome() == Outcome.URGENT
    note = SubmissionNote.objects.get(submission=submission)
    assert note.author is None
    assert "Outcome of the new answers: Urgent (this form: Routine)" in note.text
    assert "numbness, tingling or less feeling around your bottom" in note.text
    assert "No → Yes" in note.text
    # The result page keeps showing the urgent advice, even without the query string.
    assert URGENT_HEADING in client.get(first["Location"]).content.decode()


def test_resend_that_is_not_more_urgent_keeps_the_result_and_notes_the_changes(client, intake_data):
    data = intake_data(q_bladder_bowel="yes")
    first = client.post("/intake/", data)
    changed = {**data, "q_bladder_bowel": "no", "phone": "01632 960999"}
    response = client.post("/intake/", changed)
    assert result_path(response) == result_path(first) and "changed=1" in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert URGENT_HEADING in html  # the stored, more urgent advice stands
    assert NOT_SAVED in html
    submission = IntakeSubmission.objects.get()
    assert submission.escalated_outcome == ""
    assert submission.phone == "01632 960123"
    note = SubmissionNote.objects.get()
    assert "Phone number: 01632 960123 → 01632 960999" in note.text
    assert "Yes → No" in note.text
    # The same resend twice (a double click) leaves one note.
    client.post("/intake/", changed)
    assert SubmissionNote.objects.count() == 1


def test_a_second_escalation_only_raises_never_lowers(client, intake_data):
    data = intake_data()
    client.post("/intake/", data)
    client.post("/intake/", {**data, "q_saddle_numbness": "yes"})
    client.post("/intake/", {**data, "q_pregnant": "yes"})  # review: less urgent than urgent
    submission = IntakeSubmission.objects.get()
    assert submission.escalated_outcome == Outcome.URGENT
    assert SubmissionNote.objects.count() == 2


def test_another_browser_resending_urgent_answers_sees_advice_but_not_the_stored_form(
    client, intake_data
):
    data = intake_data()
    client.post("/intake/", data)
    response = Client().post("/intake/", {**data, "q_bladder_bowel": "yes"})
    assert response.status_code == 200
    html = response.content.decode()
    assert URGENT_HEADING in html and NOT_SAVED in html
    assert "You sent us this form on" not in html  # nothing of the stored form
    assert "no-store" in response["Cache-Control"]
    assert IntakeSubmission.objects.get().escalated_outcome == Outcome.URGENT
    # Answers that call for a clinician's call: that advice, again nothing of the stored form.
    review = Client().post("/intake/", {**data, "q_bleeding": "yes"})
    assert review.status_code == 200
    assert "A clinician will call you first" in review.content.decode()
    assert "You sent us this form on" not in review.content.decode()
    # Routine changes from another browser: receipt only.
    other = Client().post("/intake/", {**data, "q_pain_now": "2"})
    assert other["Location"] == "/intake/received/"
    assert IntakeSubmission.objects.count() == 1


def test_someone_else_filling_in_the_reused_page_gets_their_own_submission(client, intake_data):
    token, _html = page_token(client)
    client.post("/intake/", intake_data(token=token))
    reused, _html = page_token(client)  # within the window: the same token
    someone_else = intake_data(
        token=reused,
        full_name="Sam Other",
        email="sam@example.org",
        phone="07700 900123",
        q_bladder_bowel="yes",
    )
    response = client.post("/intake/", someone_else)
    second = IntakeSubmission.objects.get(full_name="Sam Other")
    assert result_path(response) == f"/intake/result/{second.public_id}/"
    assert second.outcome == Outcome.URGENT
    assert second.token != IntakeSubmission.objects.get(full_name="Alex Example").token
    # Their own double click still stores one.
    client.post("/intake/", someone_else)
    assert IntakeSubmission.objects.count() == 2
    assert not SubmissionNote.objects.exists()
    # Back, a typo in their name put right, sent again: still their one form, with a note.
    corrected = client.post("/intake/", {**someone_else, "full_name": "Sam Otter"})
    assert result_path(corrected) == f"/intake/result/{second.public_id}/"
    assert IntakeSubmission.objects.count() == 2
    assert "Full name: Sam Other → Sam Otter" in SubmissionNote.objects.get().text
    # A third person on the same page who shares only the phone gets a form of their own.
    third = {**someone_else, "full_name": "Kim Other", "email": "kim@example.net"}
    client.post("/intake/", third)
    assert IntakeSubmission.objects.filter(full_name="Kim Other").count() == 1
    assert IntakeSubmission.objects.count() == 3


def test_the_same_patient_correcting_their_name_is_still_the_same_form(client, intake_data):
    data = intake_data()
    client.post("/intake/", data)
    client.post("/intake/", {**data, "full_name": "Alexandra Example"})
    assert IntakeSubmission.objects.count() == 1
    assert "Full name: Alex Example → Alexandra Example" in SubmissionNote.objects.get().text


def test_opening_the_form_writes_nothing_to_the_database(client):
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        first = page_token(client)[0]
        again = page_token(client)[0]
    assert first == again  # the token survives without a session row
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert not Session.objects.exists()


def test_a_tampered_form_cookie_gets_a_fresh_token(client):
    token = page_token(client)[0]
    chosen = "11111111-1111-4111-8111-111111111111"
    now = timezone.now().isoformat()
    # Signed with another salt: what a browser could forge without the project's key.
    client.cookies[FORM_COOKIE] = signing.dumps(
        {"token": chosen, "issued_at": now, "sent_at": None}, salt="forged"
    )
    fresh = page_token(client)[0]
    assert fresh not in (token, chosen)
