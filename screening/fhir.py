"""FHIR R4 export: a questionnaire version as a `Questionnaire`, a submission as a
`QuestionnaireResponse`, built as plain dicts so any health record system can import them.

The response is built from the answers stored on the submission (the question as asked), so it
stays faithful to the version the patient answered even after newer versions go live. The triage
result (the stored outcome, and a more urgent one when a resend raised it) and the staff notes
have no element of their own in a QuestionnaireResponse, so they travel as extensions defined
under the clinic's own SITE_URL.

Every resource declares FHIR R4 twice: `meta.profile` names the R4 base definition (4.0.1), and
the download's media type carries `fhirVersion=4.0`.
"""

from typing import Any

from django.conf import settings
from django.utils.text import slugify

from .models import AnswerRecord, Kind, PreferredContact, Questionnaire, QuestionnaireStatus
from .submissions import flag_label

FHIR_TYPE = {
    Kind.YES_NO: "boolean",
    Kind.CHOICE: "choice",
    Kind.MULTI: "choice",
    Kind.SCALE: "integer",
    Kind.NUMBER: "decimal",
    Kind.SHORT_TEXT: "string",
    Kind.LONG_TEXT: "text",
    Kind.DATE: "date",
}
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
STATUS: dict[str, str] = {
    QuestionnaireStatus.DRAFT: "draft",
    QuestionnaireStatus.ACTIVE: "active",
    QuestionnaireStatus.RETIRED: "retired",
}
FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json; fhirVersion=4.0"
CONTACT_ITEMS = [
    ("contact.name", "Full name", "string", True),
    ("contact.email", "Email address", "string", False),
    ("contact.phone", "Phone number", "string", False),
]


def canonical_url() -> str:
    """The questionnaire's canonical URL, under the site's own address (SITE_URL)."""
    return f"{settings.SITE_URL}/fhir/Questionnaire/intake"


def extension_url(name: str) -> str:
    return f"{settings.SITE_URL}/fhir/StructureDefinition/{name}"


def r4_meta(resource_type: str) -> dict:
    """`meta` declaring that the resource follows the FHIR R4 base definition."""
    return {"profile": [f"http://hl7.org/fhir/StructureDefinition/{resource_type}|{FHIR_VERSION}"]}


def section_link_id(heading: str) -> str:
    return f"section-{slugify(heading)[:50]}"


def option_system(key: str) -> str:
    return f"{canonical_url()}/options/{key}"


def _number(value):
    return int(value) if value == value.to_integral_value() else float(value)


def question_item(question, by_pk) -> dict:
    item = {
        "linkId": question.key,
        "text": question.text,
        "type": FHIR_TYPE[question.kind],
        "required": question.is_required,
    }
    if question.kind == Kind.MULTI:
        item["repeats"] = True
    if question.kind in (Kind.CHOICE, Kind.MULTI):
        item["answerOption"] = [
            {"valueCoding": {"system": option_system(question.key), "code": v, "display": label}}
            for v, label in question.choices()
        ]
    if question.kind == Kind.SCALE:
        item["extension"] = [
            {"url": MIN_VALUE, "valueInteger": 0},
            {"url": MAX_VALUE, "valueInteger": 10},
        ]
    elif question.kind == Kind.NUMBER:
        item["extension"] = [
            {"url": url, "valueDecimal": _number(limit)}
            for url, limit in ((MIN_VALUE, question.min_value), (MAX_VALUE, question.max_value))
            if limit is not None
        ]
        if not item["extension"]:
            del item["extension"]
    if question.help_text:
        item["item"] = [
            {
                "linkId": f"{question.key}.help",
                "text": question.help_text,
                "type": "display",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/questionnaire-item-control",
                                    "code": "help",
                                }
                            ]
                        },
                    }
                ],
            }
        ]
    if trigger := by_pk.get(question.shown_if_question_id):
        condition = {"question": trigger.key, "operator": "="}
        if trigger.kind == Kind.YES_NO:
            condition["answerBoolean"] = question.shown_if_value == "yes"
        else:
            condition["answerCoding"] = {
                "system": option_system(trigger.key),
                "code": question.shown_if_value,
            }
        item["enableWhen"] = [condition]
    return item


def questionnaire_resource(questionnaire: Questionnaire, clinic_name: str = "") -> dict:
    questions = list(questionnaire.questions.order_by("position"))
    by_pk = {question.pk: question for question in questions}
    sections: list[dict] = []
    for question in questions:
        if not sections or sections[-1]["text"] != question.section:
            sections.append(
                {
                    "linkId": section_link_id(question.section),
                    "text": question.section,
                    "type": "group",
                    "item": [],
                }
            )
        sections[-1]["item"].append(question_item(question, by_pk))
    contact = {
        "linkId": "contact",
        "text": "Contact details",
        "type": "group",
        "item": [
            {"linkId": link_id, "text": text, "type": kind, "required": required}
            for link_id, text, kind, required in CONTACT_ITEMS
        ]
        + [
            {
                "linkId": "contact.preferred",
                "text": "How should we contact you?",
                "type": "choice",
                "required": True,
                "answerOption": [
                    {"valueCoding": {"system": option_system("contact.preferred"), "code": v}}
                    for v in PreferredContact.values
                ],
            }
        ],
    }
    consent = {
        "linkId": "consent",
        "text": "Privacy and consent",
        "type": "group",
        "item": [
            {
                "linkId": "consent.contact",
                "text": questionnaire.contact_consent_text,
                "type": "boolean",
                "required": True,
            },
            {
                "linkId": "consent.privacy",
                "text": "I have read the privacy notice and agree to the clinic keeping these "
                "answers.",
                "type": "boolean",
                "required": True,
            },
        ],
    }
    resource = {
        "resourceType": "Questionnaire",
        "id": f"intake-v{questionnaire.version}",
        "meta": r4_meta("Questionnaire"),
        "url": canonical_url(),
        "version": str(questionnaire.version),
        "name": "BackPainIntake",
        "title": questionnaire.title,
        "status": STATUS[questionnaire.status],
        "subjectType": ["Patient"],
        "date": (questionnaire.activated_at or questionnaire.created_at).isoformat(),
        "item": [contact, *sections, consent],
    }
    if clinic_name:
        resource["publisher"] = clinic_name
    if questionnaire.introduction:
        resource["description"] = questionnaire.introduction
    return resource


def answer_values(answer: AnswerRecord) -> list[dict[str, Any]]:
    value, kind = answer["value"], answer["kind"]
    match kind:
        case Kind.YES_NO:
            return [{"valueBoolean": value == "yes"}]
        case Kind.CHOICE | Kind.MULTI:
            labels = dict(answer.get("options") or [])
            return [
                {
                    "valueCoding": {
                        "system": option_system(answer["key"]),
                        "code": code,
                        "display": labels.get(code, code),
                    }
                }
                for code in (value if isinstance(value, list) else [value])
            ]
        case Kind.SCALE:
            return [{"valueInteger": int(value)}]
        case Kind.NUMBER:
            return [{"valueDecimal": value}]
        case Kind.DATE:
            return [{"valueDate": value}]
    return [{"valueString": str(value)}]


def response_resource(submission) -> dict:
    contact_items = [
        {
            "linkId": "contact.name",
            "text": "Full name",
            "answer": [{"valueString": submission.full_name}],
        }
    ]
    if submission.email:
        contact_items.append(
            {
                "linkId": "contact.email",
                "text": "Email address",
                "answer": [{"valueString": submission.email}],
            }
        )
    if submission.phone:
        contact_items.append(
            {
                "linkId": "contact.phone",
                "text": "Phone number",
                "answer": [{"valueString": submission.phone}],
            }
        )
    contact_items.append(
        {
            "linkId": "contact.preferred",
            "text": "How should we contact you?",
            "answer": [
                {
                    "valueCoding": {
                        "system": option_system("contact.preferred"),
                        "code": submission.preferred_contact,
                    }
                }
            ],
        }
    )
    sections: list[dict] = []
    for answer in submission.answers:
        if not sections or sections[-1]["text"] != answer["section"]:
            sections.append(
                {
                    "linkId": section_link_id(answer["section"]),
                    "text": answer["section"],
                    "item": [],
                }
            )
        sections[-1]["item"].append(
            {"linkId": answer["key"], "text": answer["question"], "answer": answer_values(answer)}
        )
    consent = {
        "linkId": "consent",
        "text": "Privacy and consent",
        "item": [
            {"linkId": "consent.contact", "answer": [{"valueBoolean": True}]},
            {"linkId": "consent.privacy", "answer": [{"valueBoolean": True}]},
        ],
    }
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(submission.public_id),
        "meta": r4_meta("QuestionnaireResponse"),
        "extension": [triage_extension(submission), *note_extensions(submission)],
        "identifier": {
            "system": f"{settings.SITE_URL}/fhir/intake-submission",
            "value": str(submission.public_id),
        },
        "questionnaire": f"{canonical_url()}|{submission.questionnaire.version}",
        "status": "completed",
        "authored": submission.submitted_at.isoformat(),
        "item": [
            {"linkId": "contact", "text": "Contact details", "item": contact_items},
            *sections,
            consent,
        ],
    }


def flag_extensions(flags: list[dict]) -> list[dict]:
    return [{"url": "flag", "valueString": flag_label(flag)} for flag in flags]


def triage_extension(submission) -> dict:
    """The outcome of the stored answers, the outcome now in force (a more urgent resend raises
    it), and when a resend raised it, its outcome, time and flags."""
    parts = [
        {"url": "outcome", "valueCode": submission.outcome},
        {"url": "currentOutcome", "valueCode": submission.current_outcome()},
        *flag_extensions(submission.flags),
    ]
    if submission.escalated_outcome:
        escalation = [
            {"url": "outcome", "valueCode": submission.escalated_outcome},
            *flag_extensions(submission.escalated_flags),
        ]
        if submission.escalated_at:
            escalation.insert(
                1, {"url": "at", "valueDateTime": submission.escalated_at.isoformat()}
            )
        parts.append({"url": "escalation", "extension": escalation})
    return {"url": extension_url("intake-triage"), "extension": parts}


def note_extensions(submission) -> list[dict]:
    """The staff notes, oldest first; an automatic note (a resend's changes) has no author."""
    extensions = []
    for note in submission.notes.all():
        parts = [
            {"url": "time", "valueDateTime": note.created_at.isoformat()},
            {"url": "text", "valueString": note.text},
        ]
        if note.author is not None:
            parts.insert(1, {"url": "author", "valueString": note.author.get_username()})
        extensions.append({"url": extension_url("intake-staff-note"), "extension": parts})
    return extensions


def bundle(resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "meta": r4_meta("Bundle"),
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }
