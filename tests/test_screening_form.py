"""The public intake form: validation, hostile input, idempotency, spam protection, result page."""

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.forms.widgets import ChoiceWidget
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.models import IntakeSubmission, Outcome
from tests.html_tree import text, texts, tree

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]


class FormAudit(HTMLParser):
    """Collects inputs, labels and legends to check every control is named."""

    def __init__(self):
        super().__init__()
        self.inputs, self.label_for, self.in_hp = [], set(), False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "hp" in (attrs.get("class") or "").split():
            self.in_hp = True
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        control = tag in ("input", "textarea", "select") and attrs.get("type") != "hidden"
        if control and not self.in_hp:
            self.inputs.append(attrs)

    def handle_endtag(self, tag):
        if tag == "div" and self.in_hp:
            self.in_hp = False


def stored():
    return IntakeSubmission.objects.count()


def test_form_page_renders_every_question_with_a_label(client, questionnaire):
    response = client.get("/intake/")
    assert response.status_code == 200
    html = response.content.decode()
    audit = FormAudit()
    audit.feed(html)
    assert audit.inputs, "no inputs found"
    unlabelled = [i["name"] for i in audit.inputs if i.get("id") not in audit.label_for]
    assert unlabelled == []
    for question in questionnaire.questions.all():
        assert f'name="q_{question.key}"' in html
    assert "no-store" in response["Cache-Control"]
    assert 'name="csrfmiddlewaretoken"' in html


def test_option_inputs_are_exactly_what_django_renders(questionnaire, intake_data):
    # The form writes each option's <input> itself (screening/templatetags/intake_form.py),
    # with the chosen ones checked after an error.
    from screening import fallback
    from screening.templatetags.intake_form import option_input
    from screening.views import bound_form

    data = intake_data(q_tried=["exercise", "pharmacy_painkillers"], q_bladder_bowel="yes")
    form = bound_form(fallback.active_questionnaire(), data)
    options = [
        option
        for field in form
        if isinstance(field.field.widget, ChoiceWidget)  # the questions _choices.html shows
        for option in field
    ]
    assert len(options) > 100
    assert any("checked" in option.tag() for option in options)
    for option in options:
        assert option_input(option) == option.tag()


def test_form_page_query_count_is_fixed(client, questionnaire, django_assert_max_num_queries):
    client.get("/intake/")  # warm anything cached per process
    # The session (it holds the form's token), the questionnaire, its questions, its urgent
    # flag rules (warning signs go first, with advice beside them), clinic details.
    with django_assert_max_num_queries(5):
        client.get("/intake/")


def test_valid_form_is_stored_with_questions_as_asked(submit, questionnaire):
    response = submit()
    assert response.status_code == 302
    submission = IntakeSubmission.objects.get()
    assert response["Location"].split("?")[0] == f"/intake/result/{submission.public_id}/"
    assert submission.outcome == Outcome.ROUTINE
    assert submission.flags == []
    assert submission.questionnaire == questionnaire
    by_key = {answer["key"]: answer for answer in submission.answers}
    assert by_key["pain_duration"]["question"] == "How long have you had this episode of pain?"
    assert by_key["pain_duration"]["display"] == "More than 12 weeks"
    assert by_key["pain_now"]["value"] == 4
    assert by_key["date_of_birth"]["value"] == "1985-06-15"
    assert by_key["pain_location"]["value"] == ["lower_back"]
    assert "anything_else" not in by_key  # empty optional answers are not stored
    assert f"version {questionnaire.version}" in submission.consent_text
    assert submission.consented_at is not None


def test_result_page_shows_no_personal_data_and_only_to_its_own_session(client, submit):
    response = submit(full_name="Zebedee Uniquename", email="zebedee@example.com")
    result_url = response["Location"]
    page = client.get(result_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zebedee" not in html and "zebedee@example.com" not in html
    assert "no-store" in page["Cache-Control"]
    assert Client().get(result_url).status_code == 404
    assert client.get(f"/intake/result/{uuid.uuid4()}/").status_code == 404
    submission = IntakeSubmission.objects.get()
    assert str(submission.pk) not in result_url.split("/")


def test_missing_required_answers_are_listed_and_typed_answers_kept(client, intake_data):
    data = intake_data(q_pain_now=None, q_bladder_bowel=None, full_name="")
    data["q_tried_notes"] = "Ice packs & heat <b>both</b>"
    response = client.post("/intake/", data)
    assert response.status_code == 400
    assert stored() == 0
    html = response.content.decode()
    summary = html[
        html.index('id="error-summary"') : html.index("</ul>", html.index("error-summary"))
    ]
    assert 'href="#id_full_name"' in summary
    assert 'href="#id_q_pain_now_0"' in summary
    assert 'href="#id_q_bladder_bowel_0"' in summary
    # The summary names the question and links to it; the field says only what to do.
    assert '<a href="#id_q_pain_now_0">How strong is the pain right now?</a>' in summary
    error = re.search(r'<p class="field-error" id="id_q_pain_now_error">(.*?)</p>', html, re.S)
    assert (
        error and re.sub(r"<[^>]+>", "", error.group(1)).strip() == "Error: Answer this question."
    )
    # What the patient typed is still there, escaped.
    assert "Ice packs &amp; heat &lt;b&gt;both&lt;/b&gt;" in html
    assert re.search(r'value="over_12_weeks"[^>]*checked|checked[^>]*value="over_12_weeks"', html)
    assert "<title>Error:" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("q_pain_now", "11", "Select a valid choice"),
        ("q_pain_now", "-1", "Select a valid choice"),
        ("q_pain_average", "five", "Select a valid choice"),
        ("q_pain_duration", "forever", "Select a valid choice"),
        ("q_pain_location", "kidneys", "Select a valid choice"),
        ("q_date_of_birth", "2999-01-01", "cannot be in the future"),
        ("q_date_of_birth", "1850-01-01", "after 1900"),
        ("q_date_of_birth", "31/02/1980", "Enter a real date"),
        ("q_tried_notes", "x" * 100_000, "at most 2000 characters"),
        ("full_name", "y" * 100_000, "at most 200 characters"),
        ("q_tried_notes", "before\x00after", "Null characters are not allowed"),
        ("full_name", "Al\x00ex", "Null characters are not allowed"),
        ("q_anything_else", "bell\x07", "control characters"),
        ("email", "not-an-email", "Enter an email address"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("token", "not-a-uuid", "damaged on its way"),
    ],
)
def test_invalid_and_hostile_input_is_refused_clearly(client, intake_data, field, value, message):
    response = client.post("/intake/", intake_data(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert stored() == 0


def test_html_and_script_payloads_are_stored_as_text_and_never_rendered(client, intake_data):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post(
        "/intake/", intake_data(full_name=payload, q_tried_notes=payload, q_anything_else=payload)
    )
    assert response.status_code == 302
    submission = IntakeSubmission.objects.get()
    assert submission.full_name == payload
    assert {a["key"]: a["value"] for a in submission.answers}["tried_notes"] == payload
    # Re-rendered on an error page the payload is escaped.
    again = client.post("/intake/", intake_data(q_anything_else=payload, full_name=""))
    assert "<script>alert" not in again.content.decode()


def test_emoji_and_non_latin_text_are_kept_exactly(client, intake_data):
    text = "Pain 😣 after 🏋️ — Schmerz, боль, 痛み"
    assert (
        client.post("/intake/", intake_data(q_tried_notes=text, full_name="Zoë 李")).status_code
        == 302
    )
    submission = IntakeSubmission.objects.get()
    assert submission.full_name == "Zoë 李"
    assert {a["key"]: a["value"] for a in submission.answers}["tried_notes"] == text


def test_forged_question_ids_are_an_error(client, intake_data):
    response = client.post("/intake/", intake_data(q_made_up="yes", q_999="1"))
    assert response.status_code == 400
    assert "answers to questions it does not ask" in response.content.decode()
    assert stored() == 0


def test_answers_for_another_version_are_refused_and_the_new_version_shown(
    client, intake_data, questionnaire, make_staff
):
    draft = questionnaire.clone_as_draft()
    draft.questions.filter(key="pain_now").update(text="Right now, how bad is the pain?")
    draft.activate(by=make_staff(superuser=True))
    response = client.post("/intake/", intake_data(version=str(questionnaire.version)))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The form was updated while you were filling it in" in html
    assert f'name="version" value="{draft.version}"' in html
    assert "Right now, how bad is the pain?" in html
    assert stored() == 0


def path_of(location):
    return urlsplit(location).path


def test_double_submit_stores_one_submission(client, intake_data):
    data = intake_data()
    first = client.post("/intake/", data)
    second = client.post("/intake/", data)
    assert first.status_code == second.status_code == 302
    # The same result page; the signed advice after "?" carries its own timestamp.
    assert path_of(first["Location"]) == path_of(second["Location"])
    assert stored() == 1


def test_resubmitted_token_from_another_browser_does_not_reveal_the_result(client, intake_data):
    data = intake_data(q_bladder_bowel="yes")
    client.post("/intake/", data)
    other = Client()
    response = other.post("/intake/", data)
    assert response["Location"] == "/intake/received/"
    assert stored() == 1


def test_token_is_kept_on_an_error_page_so_a_corrected_form_stores_once(client, intake_data):
    data = intake_data(full_name="")
    html = client.post("/intake/", data).content.decode()
    assert f'name="token" value="{data["token"]}"' in html


def test_honeypot_stores_nothing_and_says_thanks(client, intake_data):
    response = client.post("/intake/", intake_data(website="http://spam.example"))
    assert response["Location"] == "/intake/received/"
    assert stored() == 0


@pytest.fixture
def clinic_phone():
    from clinic.models import ClinicDetails

    details = ClinicDetails.load()
    details.phone = "01632 960000"
    details.save()
    return details.phone


def test_rate_limit_answers_429_with_the_clinic_phone(client, intake_data, settings, clinic_phone):
    settings.INTAKE_RATE_LIMIT = "3/h"
    codes = [client.post("/intake/", intake_data()).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    last = client.post("/intake/", intake_data())
    assert last.status_code == 429
    assert "01632 960000" in last.content.decode()
    assert stored() == 3
    # Other addresses are not affected.
    assert client.post("/intake/", intake_data(), REMOTE_ADDR="198.51.100.7").status_code == 302


def test_invalid_attempts_do_not_count_towards_the_rate_limit(client, intake_data, settings):
    settings.INTAKE_RATE_LIMIT = "10/h"
    assert [client.post("/intake/", intake_data()).status_code for _ in range(4)] == [302] * 4
    invalid = [client.post("/intake/", intake_data(full_name="")).status_code for _ in range(6)]
    assert invalid == [400] * 6
    # The reviewer's case: before, every POST from here on answered 429.
    assert [client.post("/intake/", intake_data()).status_code for _ in range(6)] == [302] * 6
    assert client.post("/intake/", intake_data()).status_code == 429
    assert stored() == 10


def test_resending_a_stored_form_and_the_honeypot_do_not_count(client, intake_data, settings):
    settings.INTAKE_RATE_LIMIT = "1/h"
    data = intake_data()
    first = client.post("/intake/", data)
    resent = client.post("/intake/", data)
    assert path_of(resent["Location"]) == path_of(first["Location"])  # not 429
    assert client.post("/intake/", intake_data(website="spam"))["Location"] == "/intake/received/"
    assert client.post("/intake/", intake_data()).status_code == 429
    assert stored() == 1


def test_rate_limited_form_is_shown_again_with_the_answers_and_the_clinic_phone(
    client, intake_data, settings, clinic_phone
):
    settings.INTAKE_RATE_LIMIT = "1/h"
    client.post("/intake/", intake_data())
    data = intake_data(full_name="Kept Name", q_tried_notes="Heat & stretching", q_pain_now="7")
    response = client.post("/intake/", data)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    doc = tree(response)
    # The notice comes before the form and offers the clinic's phone number.
    (notice,) = doc.xpath("//*[@id='rate-limited'][following::*[@id='intake-form']]")
    assert "Your form has not been sent yet" in text(notice)
    assert notice.xpath(".//a[@href='tel:01632960000']")
    # Everything typed is still in the form.
    assert doc.xpath("//input[@name='full_name']/@value") == ["Kept Name"]
    assert texts(doc, "//textarea[@name='q_tried_notes']") == ["Heat & stretching"]
    assert doc.xpath("//input[@name='q_pain_now'][@checked]/@value") == ["7"]
    assert doc.xpath("//input[@name='token']/@value") == [data["token"]]
    assert doc.findtext(".//title").startswith("Not sent:")
    assert "no-store" in response["Cache-Control"]
    assert stored() == 1
    # Sent again once the window has passed, the kept form is stored once.
    cache.clear()
    assert client.post("/intake/", data).status_code == 302
    assert client.post("/intake/", data).status_code == 302
    assert stored() == 2


def test_rate_limited_form_with_mistakes_shows_both(client, intake_data, settings):
    settings.INTAKE_RATE_LIMIT = "1/h"
    client.post("/intake/", intake_data())
    response = client.post("/intake/", intake_data(full_name=""))
    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="rate-limited"' in html and 'id="error-summary"' in html
    assert "Enter your full name." in html


def test_honeypot_stores_nothing_even_when_rate_limited(client, intake_data, settings):
    settings.INTAKE_RATE_LIMIT = "1/h"
    client.post("/intake/", intake_data())
    response = client.post("/intake/", intake_data(website="http://spam.example"))
    assert response["Location"] == "/intake/received/"
    assert stored() == 1


def test_csrf_is_enforced(intake_data):
    response = Client(enforce_csrf_checks=True).post("/intake/", intake_data())
    assert response.status_code == 403
    assert stored() == 0


def test_contact_needs_email_or_phone_matching_the_preference(client, intake_data):
    response = client.post("/intake/", intake_data(email="", phone=""))
    assert "Give an email address or a phone number" in response.content.decode()
    response = client.post("/intake/", intake_data(email="", preferred_contact="email"))
    assert "You chose email: give an email address." in response.content.decode()
    assert stored() == 0


def test_conditional_question_is_required_only_when_it_applies(client, intake_data):
    response = client.post("/intake/", intake_data(q_takes_medicines="yes"))
    assert response.status_code == 400
    html = response.content.decode()
    assert '<a href="#id_q_medicines_list">Which medicines do you take?</a>' in html
    assert 'id="id_q_medicines_list_error"' in html
    ok = client.post(
        "/intake/", intake_data(q_takes_medicines="yes", q_medicines_list="Ibuprofen 400mg")
    )
    assert ok.status_code == 302


def test_answer_to_a_question_that_did_not_apply_is_discarded(client, intake_data):
    client.post("/intake/", intake_data(q_takes_medicines="no", q_medicines_list="should vanish"))
    keys = {answer["key"] for answer in IntakeSubmission.objects.get().answers}
    assert "medicines_list" not in keys


def test_form_unavailable_without_an_active_questionnaire(client, questionnaire):
    questionnaire.status = "retired"
    questionnaire.save()
    response = client.get("/intake/")
    assert response.status_code == 503
    assert "not available" in response.content.decode()


TEXT_FIELDS = ["full_name", "q_tried_notes", "q_anything_else", "q_medicines_list"]
# Anything a browser can send (UTF-8 text: no lone surrogates).
typed_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(TEXT_FIELDS), text=typed_text)
def test_arbitrary_text_never_crashes_or_stores_broken_data(
    client, intake_data, settings, field, text
):
    settings.INTAKE_RATE_LIMIT = "100000/h"
    IntakeSubmission.objects.all().delete()
    extra = {"q_takes_medicines": "yes", "q_medicines_list": "Paracetamol"}
    response = client.post("/intake/", intake_data(**{**extra, field: text}))
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert stored() == 0
        assert 'class="field-error"' in response.content.decode()
        return
    submission = IntakeSubmission.objects.get()
    submission.refresh_from_db()
    expected = text.strip()
    if field == "full_name":
        assert submission.full_name == expected
    else:
        answers = {answer["key"]: answer["value"] for answer in submission.answers}
        key = field.removeprefix("q_")
        assert answers.get(key, "") == expected
    assert "\x00" not in str(submission.answers) + submission.full_name


def test_warning_signs_come_before_contact_details_with_urgent_advice_beside_them(client):
    html = client.get("/intake/").content.decode()
    warning = html.index(">Warning signs</h2>")
    assert warning < html.index('id="section-contact"') < html.index(">About you</h2>")
    # Each answer that is a warning sign by itself carries the urgent advice beside it.
    for key in ["bladder_bowel", "saddle_numbness", "leg_weakness", "fever_unwell"]:
        assert f'id="id_q_{key}_urgent"' in html, key
    assert 'id="id_q_cancer_history_urgent"' not in html  # a review flag, not urgent
    urgent_choice = re.search(
        r'<div class="choice urgent-choice"><input[^>]*name="q_saddle_numbness"[^>]*>', html
    )
    assert urgent_choice and 'value="yes"' in urgent_choice.group(0)


def test_error_summary_lists_fields_in_page_order(client, intake_data):
    data = intake_data(full_name="", q_bladder_bowel=None, q_pain_now=None)
    html = client.post("/intake/", data).content.decode()
    start = html.index('id="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    anchors = re.findall(r'<a href="#([^"]+)">', summary)
    assert anchors == ["id_q_bladder_bowel_0", "id_full_name", "id_q_pain_now_0"]


@pytest.mark.parametrize("sent", [False, True], ids=["blank form", "form with errors"])
def test_urgent_advice_beside_a_warning_sign_gives_the_clinics_numbers(client, intake_data, sent):
    from clinic.models import ClinicDetails

    details = ClinicDetails.load()
    details.emergency_phone, details.urgent_advice_phone = "999", "111"
    details.save()
    if sent:
        response = client.post("/intake/", intake_data(full_name=""))
        assert response.status_code == 400 and not IntakeSubmission.objects.exists()
    else:
        response = client.get("/intake/")
    advice = tree(response).xpath('//div[@id="id_q_saddle_numbness_urgent"]')[0]
    assert [(a.get("href"), a.text) for a in advice.iter("a")] == [
        ("tel:999", "999"),
        ("tel:111", "111"),
    ]
