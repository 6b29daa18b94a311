"""Downloads of intake submissions for clinical staff: CSV for spreadsheets, FHIR JSON for records.

The views that offer them (admin actions and the per-submission FHIR link) check permissions and
record each export in the access log; this module only turns submissions into files.
"""

import csv

from django.http import HttpResponse, JsonResponse
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_response(submissions) -> HttpResponse:
    """The submissions as one CSV file, a row each, with a column per question key."""
    keys: dict[str, str] = {}
    for submission in submissions:
        for answer in submission.answers:
            keys.setdefault(answer["key"], answer["question"])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="intake-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    fixed = [
        "reference",
        "submitted_at",
        "questionnaire_version",
        "outcome",
        "status",
        "assignee",
        "full_name",
        "email",
        "phone",
        "preferred_contact",
        "flags",
    ]
    writer.writerow(fixed + list(keys))
    for submission in submissions:
        answers = {answer["key"]: answer["display"] for answer in submission.answers}
        row = [
            submission.pk,
            timezone.localtime(submission.submitted_at).isoformat(),
            submission.questionnaire.version,
            submission.outcome,
            submission.status,
            submission.assignee.get_username() if submission.assignee else "",
            submission.full_name,
            submission.email,
            submission.phone,
            submission.preferred_contact,
            "; ".join(f"{flag['level']}: {flag['key']}" for flag in submission.flags),
            *(answers.get(key, "") for key in keys),
        ]
        writer.writerow([csv_safe(cell) for cell in row])
    return response


def fhir_response(resource: dict, filename: str) -> JsonResponse:
    """A FHIR resource as a JSON download that no cache keeps."""
    response = JsonResponse(
        resource, content_type="application/fhir+json", json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    response["Cache-Control"] = "no-store"
    return response
