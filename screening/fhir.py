"""FHIR R4 export: a questionnaire version as a `Questionnaire`, a submission as a
`QuestionnaireResponse`, built as plain dicts so any health record system can import them.

The response is built from the answers stored on the submission (the question as asked), so it
stays faithful to the version the patient answered even after newer versions go live.
"""

from typing import Any

from django.conf import settings
from django.utils.text import slugify

from .models import AnswerRecord, Kind, PreferredContact, Questionnaire, QuestionnaireStatus

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
CONTACT_ITEMS = [
    ("contact.name", "Full name", "string", True),
    ("contact.email", "Email address", "string", False),
    ("contact.phone", "Phone number", "string", False),
]


def canonical_url() -> str:
    return f"{settings.SITE_URL}/fhir/Questionnaire/intake"


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


def bundle(resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }
