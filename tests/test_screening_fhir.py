"""FHIR R4 export: structure checked against the Questionnaire / QuestionnaireResponse shapes."""

import json
import re

import pytest

from screening import fhir
from screening.models import IntakeSubmission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]

ITEM_TYPES = {
    "group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string",
    "text", "url", "choice", "open-choice", "attachment", "reference", "quantity",
}  # fmt: skip
ENABLE_WHEN_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
VALUE_FOR_TYPE = {
    "boolean": "valueBoolean",
    "decimal": "valueDecimal",
    "integer": "valueInteger",
    "date": "valueDate",
    "string": "valueString",
    "text": "valueString",
    "choice": "valueCoding",
}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def walk(items, parent=()):
    for item in items:
        yield item, parent
        yield from walk(item.get("item", []), (*parent, item["linkId"]))


def validate_questionnaire(resource):
    assert resource["resourceType"] == "Questionnaire"
    assert resource["status"] in {"draft", "active", "retired", "unknown"}
    assert resource["url"].startswith("http")
    items = list(walk(resource["item"]))
    link_ids = [item["linkId"] for item, _ in items]
    assert len(link_ids) == len(set(link_ids)), "linkIds must be unique"
    seen = set()
    for item, _parent in items:
        assert item["type"] in ITEM_TYPES
        assert isinstance(item["linkId"], str) and item["linkId"]
        if item["type"] == "group":
            assert item["item"], f"empty group {item['linkId']}"
        if item["type"] == "display":
            assert "required" not in item and "answerOption" not in item
        if "answerOption" in item:
            assert item["type"] in {"choice", "open-choice"}
            for option in item["answerOption"]:
                assert set(option) == {"valueCoding"} and option["valueCoding"]["code"]
        for condition in item.get("enableWhen", []):
            assert condition["operator"] in ENABLE_WHEN_OPERATORS
            assert condition["question"] in seen, "enableWhen must point at an earlier item"
            answers = [key for key in condition if key.startswith("answer")]
            assert len(answers) == 1
            target = next(i for i, _ in items if i["linkId"] == condition["question"])
            if target["type"] == "boolean":
                assert answers == ["answerBoolean"]
            else:
                codes = {o["valueCoding"]["code"] for o in target["answerOption"]}
                assert condition["answerCoding"]["code"] in codes
        if len(item.get("enableWhen", [])) > 1:
            assert item["enableBehavior"] in {"all", "any"}
        seen.add(item["linkId"])
    return {item["linkId"]: (item, parent) for item, parent in items}


def validate_response(response, questionnaire):
    index = validate_questionnaire(questionnaire)
    assert response["resourceType"] == "QuestionnaireResponse"
    assert response["status"] in {
        "in-progress",
        "completed",
        "amended",
        "entered-in-error",
        "stopped",
    }
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    answered = {}
    for item, parent in walk(response["item"]):
        assert item["linkId"] in index, f"unknown linkId {item['linkId']}"
        definition, definition_parent = index[item["linkId"]]
        assert parent == definition_parent, f"{item['linkId']} is under the wrong group"
        if definition["type"] == "group":
            assert "answer" not in item
            continue
        answers = item["answer"]
        assert answers, f"{item['linkId']} has an empty answer list"
        if not definition.get("repeats"):
            assert len(answers) == 1
        expected = VALUE_FOR_TYPE[definition["type"]]
        for answer in answers:
            values = [key for key in answer if key.startswith("value")]
            assert values == [expected], f"{item['linkId']}: {values} for {definition['type']}"
            value = answer[expected]
            match expected:
                case "valueBoolean":
                    assert isinstance(value, bool)
                case "valueInteger":
                    assert isinstance(value, int) and not isinstance(value, bool)
                case "valueDecimal":
                    assert isinstance(value, int | float)
                case "valueDate":
                    assert DATE_RE.match(value)
                case "valueString":
                    assert isinstance(value, str)
                case "valueCoding":
                    codes = {o["valueCoding"]["code"] for o in definition["answerOption"]}
                    assert value["code"] in codes
        answered[item["linkId"]] = answers
    # Every required item that was enabled has an answer.
    for link_id, (definition, _parent) in index.items():
        if not definition.get("required"):
            continue
        enabled = all(
            any(
                answer.get("valueBoolean") == condition.get("answerBoolean", object())
                or answer.get("valueCoding", {}).get("code")
                == condition.get("answerCoding", {}).get("code", object())
                for answer in answered.get(condition["question"], [])
            )
            for condition in definition.get("enableWhen", [])
        )
        if enabled:
            assert link_id in answered, f"required {link_id} not answered"
    return answered


def test_questionnaire_resource_is_valid_with_enable_when(questionnaire):
    resource = fhir.questionnaire_resource(questionnaire, "Test Clinic")
    json.dumps(resource)
    index = validate_questionnaire(resource)
    assert resource["status"] == "active" and resource["version"] == "2"
    assert index["injury_severe"][0]["enableWhen"] == [
        {"question": "injury", "operator": "=", "answerBoolean": True}
    ]
    assert index["medicines_list"][0]["enableWhen"][0]["question"] == "takes_medicines"
    assert index["pain_location"][0]["repeats"] is True
    assert index["pain_now"][0]["type"] == "integer"
    assert index["date_of_birth"][0]["type"] == "date"
    question_keys = set(questionnaire.questions.values_list("key", flat=True))
    assert question_keys <= set(index)


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"q_injury": "yes", "q_injury_severe": "yes", "q_saddle_numbness": "yes"},
        {"q_takes_medicines": "yes", "q_medicines_list": "Naproxen", "q_tried": None},
        {"email": "", "preferred_contact": "phone", "q_pain_location": ["neck", "buttock"]},
    ],
)
def test_response_resource_matches_the_questionnaire(submit, questionnaire, answers):
    assert submit(**answers).status_code == 302
    submission = IntakeSubmission.objects.get()
    response = fhir.response_resource(submission)
    json.dumps(response)
    answered = validate_response(response, fhir.questionnaire_resource(questionnaire))
    assert answered["contact.name"] == [{"valueString": "Alex Example"}]
    assert answered["pain_now"] == [{"valueInteger": 4}]
    assert answered["bladder_bowel"] == [{"valueBoolean": False}]
    assert answered["date_of_birth"] == [{"valueDate": "1985-06-15"}]
    assert {a["key"] for a in submission.answers} <= set(answered)


def test_old_response_still_matches_its_own_version_after_a_new_one_goes_live(
    submit, questionnaire, make_staff
):
    submit()
    submission = IntakeSubmission.objects.get()
    draft = questionnaire.clone_as_draft()
    draft.questions.filter(key="tried_notes").delete()
    draft.activate(by=make_staff(superuser=True))
    questionnaire.refresh_from_db()
    response = fhir.response_resource(submission)
    assert response["questionnaire"].endswith(f"|{questionnaire.version}")
    validate_response(response, fhir.questionnaire_resource(questionnaire))
    new_definition = fhir.questionnaire_resource(draft)
    with pytest.raises(AssertionError, match=rf"intake\|{draft.version}"):
        validate_response(response, new_definition)
    # Even relabelled as the new version, it answers a question the new version does not ask.
    with pytest.raises(AssertionError, match="unknown linkId tried_notes"):
        validate_response(
            {**response, "questionnaire": f"{new_definition['url']}|{draft.version}"},
            new_definition,
        )


def test_validator_catches_a_wrong_value_type(submit, questionnaire):
    submit()
    response = fhir.response_resource(IntakeSubmission.objects.get())
    for item, _parent in walk(response["item"]):
        if item["linkId"] == "pain_now":
            item["answer"] = [{"valueString": "4"}]
    with pytest.raises(AssertionError):
        validate_response(response, fhir.questionnaire_resource(questionnaire))


def test_admin_bundle_export(client, submit, clinician, questionnaire):
    submit()
    submit(full_name="Second Person")
    client.force_login(clinician)
    pks = list(IntakeSubmission.objects.values_list("pk", flat=True))
    response = client.post(
        "/admin/screening/intakesubmission/", {"action": "export_fhir", "_selected_action": pks}
    )
    bundle = json.loads(response.content)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert len(bundle["entry"]) == 2
    definition = fhir.questionnaire_resource(questionnaire)
    for entry in bundle["entry"]:
        validate_response(entry["resource"], definition)
