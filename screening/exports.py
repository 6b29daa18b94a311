"""Downloads of intake submissions for clinical staff: CSV for spreadsheets, FHIR JSON for records.

The views that offer them (admin actions and the per-submission FHIR link) check permissions and
record each export in the access log; this module only turns submissions into files.
"""

import csv

from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from .fhir import MEDIA_TYPE
from .submissions import flag_label

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def flag_list(flags: list[dict]) -> str:
    return "; ".join(flag_label(flag) for flag in flags)


def local_time(moment) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""


def notes_text(submission) -> str:
    return "\n\n".join(
        f"{local_time(note.created_at)} "
        f"{note.author.get_username() if note.author else 'automatic'}: {note.text}"
        for note in submission.notes.all()
    )


# The CSV's columns, always these and in this order, whatever the questionnaire version (the
# README's "CSV columns" table is checked against this list by a test).
CSV_COLUMNS = {
    "reference": lambda s: s.pk,
    "public_id": lambda s: s.public_id,
    "submitted_at": lambda s: local_time(s.submitted_at),
    "questionnaire_version": lambda s: s.questionnaire.version,
    "outcome": lambda s: s.outcome,
    "flags": lambda s: flag_list(s.flags),
    "current_outcome": lambda s: s.current_outcome(),
    "escalated_outcome": lambda s: s.escalated_outcome,
    "escalated_at": lambda s: local_time(s.escalated_at),
    "escalated_flags": lambda s: flag_list(s.escalated_flags) if s.escalated_outcome else "",
    "status": lambda s: s.status,
    "assignee": lambda s: s.assignee.get_username() if s.assignee else "",
    "full_name": lambda s: s.full_name,
    "email": lambda s: s.email,
    "phone": lambda s: s.phone,
    "preferred_contact": lambda s: s.preferred_contact,
    "answers": lambda s: "\n".join(f"{a['key']}: {a['display']}" for a in s.answers),
    "staff_notes": notes_text,
}


def csv_response(submissions) -> HttpResponse:
    """The submissions as one CSV file, a row each, with the columns of CSV_COLUMNS.

    `submissions` should come with their questionnaire, assignee and notes' authors loaded.
    """
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="intake-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for submission in submissions:
        writer.writerow([csv_safe(cell(submission)) for cell in CSV_COLUMNS.values()])
    return response


def fhir_response(resource: dict, filename: str) -> JsonResponse:
    """A FHIR resource as a JSON download that no cache keeps."""
    response = JsonResponse(resource, content_type=MEDIA_TYPE, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    response["Cache-Control"] = "no-store"
    return response
