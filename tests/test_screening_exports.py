"""CSV and FHIR exports tell the whole story: a resend's more urgent outcome, staff notes, a
fixed and documented set of CSV columns, and FHIR R4 under the site's own address."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from screening import exports, fhir
from screening.models import IntakeSubmission, SubmissionNote

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]

LIST = "/admin/screening/intakesubmission/"
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def escalated(client, intake_data, clinician):
    """A routine form resent with an urgent answer, with a note from a clinician."""
    data = intake_data(full_name="Later Urgent")
    client.post("/intake/", data)
    client.post("/intake/", {**data, "q_saddle_numbness": "yes"})
    submission = IntakeSubmission.objects.get()
    SubmissionNote.objects.create(
        submission=submission, author=clinician, text="Rang, sent to A&E."
    )
    return submission


def export_csv(client, clinician, submissions):
    client.force_login(clinician)
    response = client.post(
        LIST, {"action": "export_csv", "_selected_action": [s.pk for s in submissions]}
    )
    assert response.status_code == 200
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    return reader.fieldnames, list(reader)


def test_csv_carries_the_escalated_outcome_its_flags_time_and_the_notes(
    client, clinician, escalated
):
    _header, [row] = export_csv(client, clinician, [escalated])
    assert row["outcome"] == "routine"
    assert row["current_outcome"] == "urgent"
    assert row["escalated_outcome"] == "urgent"
    assert row["escalated_at"].startswith(escalated.escalated_at.date().isoformat()[:4])
    assert "urgent: saddle_numbness" in row["escalated_flags"]
    assert row["flags"] == ""
    assert "Rang, sent to A&E." in row["staff_notes"]
    assert f"{clinician.username}: Rang" in row["staff_notes"]
    assert "automatic: Automatic note" in row["staff_notes"]


def test_csv_columns_are_fixed_whatever_is_selected(client, submit, clinician):
    submit(full_name="Plain")
    submit(full_name="Takes Pills", q_takes_medicines="yes", q_medicines_list="Paracetamol")
    first, second = IntakeSubmission.objects.order_by("pk")
    header_one, _rows = export_csv(client, clinician, [first])
    header_two, _rows = export_csv(client, clinician, [second])
    header_none, rows = export_csv(client, clinician, [first, second])
    assert header_one == header_two == header_none == list(exports.CSV_COLUMNS)
    assert "medicines_list: Paracetamol" in rows[1]["answers"].splitlines()


def test_readme_documents_every_csv_column_in_order():
    text = README.read_text()
    section = text[text.index("#### CSV columns") :]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert documented[: len(exports.CSV_COLUMNS)] == list(exports.CSV_COLUMNS)


def test_fhir_response_carries_the_escalation_and_notes(client, clinician, escalated):
    client.force_login(clinician)
    response = client.get(f"{LIST}{escalated.pk}/fhir/")
    resource = json.loads(response.content)
    triage = next(e for e in resource["extension"] if e["url"].endswith("/intake-triage"))
    parts = {part["url"]: part for part in triage["extension"]}
    assert parts["outcome"]["valueCode"] == "routine"
    assert parts["currentOutcome"]["valueCode"] == "urgent"
    escalation = {part["url"]: part for part in parts["escalation"]["extension"]}
    assert escalation["outcome"]["valueCode"] == "urgent"
    assert escalation["at"]["valueDateTime"] == escalated.escalated_at.isoformat()
    assert escalation["flag"]["valueString"] == "urgent: saddle_numbness"
    notes = [e for e in resource["extension"] if e["url"].endswith("/intake-staff-note")]
    texts = [next(p["valueString"] for p in n["extension"] if p["url"] == "text") for n in notes]
    assert texts[-1] == "Rang, sent to A&E."
    assert texts[0].startswith("Automatic note")


def test_fhir_resources_declare_r4(client, clinician, escalated, questionnaire):
    client.force_login(clinician)
    response = client.get(f"{LIST}{escalated.pk}/fhir/")
    assert response["Content-Type"] == "application/fhir+json; fhirVersion=4.0"
    resource = json.loads(response.content)
    assert resource["meta"]["profile"] == [
        "http://hl7.org/fhir/StructureDefinition/QuestionnaireResponse|4.0.1"
    ]
    definition = fhir.questionnaire_resource(questionnaire)
    assert definition["meta"]["profile"] == [
        "http://hl7.org/fhir/StructureDefinition/Questionnaire|4.0.1"
    ]
    bundle = client.post(LIST, {"action": "export_fhir", "_selected_action": [escalated.pk]})
    assert bundle["Content-Type"] == "application/fhir+json; fhirVersion=4.0"


def test_questionnaire_canonical_url_follows_site_url(submit, questionnaire, settings):
    settings.SITE_URL = "https://clinic.example"
    submit()
    response = fhir.response_resource(IntakeSubmission.objects.get())
    assert response["questionnaire"] == (
        f"https://clinic.example/fhir/Questionnaire/intake|{questionnaire.version}"
    )
    assert fhir.questionnaire_resource(questionnaire)["url"] == (
        "https://clinic.example/fhir/Questionnaire/intake"
    )
    assert all(e["url"].startswith("https://clinic.example/") for e in response["extension"])


def test_exports_name_the_blood_thinner_a_medicines_list_matched(client, submit, clinician):
    submit(q_takes_medicines="yes", q_medicines_list="Warfarin 5 mg daily")
    submission = IntakeSubmission.objects.get()
    [flag] = [flag for flag in submission.flags if flag["key"] == "medicines_list"]
    assert "warfarin" in flag["detail"].lower()

    _header, [row] = export_csv(client, clinician, [submission])
    assert row["flags"] == f"review: medicines_list ({flag['detail']})"

    triage = fhir.triage_extension(submission)
    flags = [part["valueString"] for part in triage["extension"] if part["url"] == "flag"]
    assert flags == [f"review: medicines_list ({flag['detail']})"]
