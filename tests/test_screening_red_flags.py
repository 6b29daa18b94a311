"""Questionnaire version 2: the guideline red flags v1 missed, each rule tested alone, and a
property test that combining answers never gives a lower outcome than any single flag in it."""

import importlib
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import triage
from screening.models import (
    OUTCOME_RANK,
    FlagRule,
    IntakeSubmission,
    Kind,
    Level,
    Operator,
    Outcome,
    Question,
    Questionnaire,
    QuestionnaireStatus,
)
from tests.test_screening_triage import CASES as V1_CASES
from tests.test_screening_triage import born_years_ago

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]

URGENT, REVIEW, ROUTINE = Outcome.URGENT, Outcome.REVIEW, Outcome.ROUTINE
RISKS = {"q_health_risks": "yes"}
SUDDEN = {"q_sudden_severe": "yes", "q_heart_circulation": "no"}

# (description, answers changed from an all-clear form, outcome, flagged question keys sorted)
SIGNS = [
    # Cauda equina
    ("new sexual problems", {"q_sexual_problems": "yes"}, URGENT, ["sexual_problems"]),
    (
        "symptoms in both legs",
        {"q_pain_location": ["lower_back", "both_legs"]},
        REVIEW,
        ["pain_location"],
    ),
    (
        "worsening weakness in both legs",
        {"q_pain_location": ["both_legs"], "q_leg_weakness": "yes"},
        URGENT,
        ["leg_weakness", "leg_weakness", "pain_location"],
    ),
    # Infection
    (
        "fever with leg weakness",
        {"q_fever_unwell": "yes", "q_leg_weakness": "yes"},
        URGENT,
        ["fever_unwell", "fever_unwell", "leg_weakness"],
    ),
    *(
        (
            f"risk: {option}",
            {**RISKS, "q_health_risks_which": [option]},
            REVIEW,
            ["health_risks_which"],
        )
        for option in [
            "steroids",
            "weak_immunity",
            "injecting_drugs",
            "recent_infection",
            "spinal_procedure",
            "osteoporosis",
            "unsure",
        ]
    ),
    (
        "injecting drugs with worsening leg weakness",
        {**RISKS, "q_health_risks_which": ["injecting_drugs"], "q_leg_weakness": "yes"},
        URGENT,
        ["health_risks_which", "leg_weakness", "leg_weakness"],
    ),
    (
        "risk answers ignored when the gate says no",
        {"q_health_risks": "no", "q_health_risks_which": ["steroids"]},
        ROUTINE,
        [],
    ),
    # Fracture and a vascular cause
    ("sudden severe pain, age 40", SUDDEN, REVIEW, ["sudden_severe"]),
    (
        "sudden severe pain in the middle of the back",
        {**SUDDEN, "q_pain_location": ["upper_back"]},
        REVIEW,
        ["sudden_severe", "sudden_severe"],
    ),
    (
        "sudden severe pain over 60",
        {**SUDDEN, "q_date_of_birth": born_years_ago(61)},
        URGENT,
        ["sudden_severe", "sudden_severe"],
    ),
    (
        "sudden severe pain at exactly 60",
        {**SUDDEN, "q_date_of_birth": born_years_ago(60, 0)},
        REVIEW,
        ["sudden_severe"],
    ),
    (
        "sudden severe pain with heart or circulation problems",
        {**SUDDEN, "q_heart_circulation": "yes"},
        URGENT,
        ["heart_circulation", "sudden_severe"],
    ),
    (
        "heart answer ignored without sudden pain",
        {"q_sudden_severe": "no", "q_heart_circulation": "yes"},
        ROUTINE,
        [],
    ),
    # Cancer
    ("constant, worsening pain", {"q_constant_worsening": "yes"}, REVIEW, ["constant_worsening"]),
    (
        "new thoracic pain",
        {"q_pain_location": ["upper_back"], "q_pain_duration": "under_6_weeks"},
        REVIEW,
        ["pain_location"],
    ),
    (
        "thoracic pain for 6-12 weeks",
        {"q_pain_location": ["upper_back"], "q_pain_duration": "6_to_12_weeks"},
        REVIEW,
        ["pain_location"],
    ),
    (
        "long-standing thoracic pain",
        {"q_pain_location": ["upper_back"], "q_pain_duration": "over_12_weeks"},
        ROUTINE,
        [],
    ),
    # Inflammatory back pain
    (
        "morning stiffness, began before 45",
        {"q_morning_stiffness": "yes", "q_stiffness_began_young": "yes"},
        REVIEW,
        ["stiffness_began_young"],
    ),
    (
        "morning stiffness, began later",
        {"q_morning_stiffness": "yes", "q_stiffness_began_young": "no"},
        ROUTINE,
        [],
    ),
    # Blood thinners named in the medicines, with "no" to the blood thinner question
    (
        "warfarin in the medicines text",
        {"q_takes_medicines": "yes", "q_medicines_list": "Warfarin 5 mg daily"},
        REVIEW,
        ["medicines_list"],
    ),
    (
        "a brand name in capitals",
        {"q_takes_medicines": "yes", "q_medicines_list": "ELIQUIS twice a day, omeprazole"},
        REVIEW,
        ["medicines_list"],
    ),
    (
        "no blood thinner named",
        {"q_takes_medicines": "yes", "q_medicines_list": "Paracetamol; heparinised saline once"},
        ROUTINE,
        [],
    ),
]


def post(client, intake_data, answers):
    response = client.post("/intake/", intake_data(**answers))
    assert response.status_code == 302, response.content.decode()[:2000]
    return IntakeSubmission.objects.get()


@pytest.mark.parametrize(
    ("answers", "outcome", "flagged"), [c[1:] for c in SIGNS], ids=[c[0] for c in SIGNS]
)
def test_each_sign_alone_gives_its_outcome(client, intake_data, answers, outcome, flagged):
    submission = post(client, intake_data, answers)
    assert submission.outcome == outcome
    assert sorted(flag["key"] for flag in submission.flags) == flagged
    assert all(flag["explanation"] for flag in submission.flags)


def test_v2_is_live_and_v1_retired_unchanged():
    v1, v2 = Questionnaire.objects.get(version=1), Questionnaire.objects.get(version=2)
    assert (v1.status, v2.status) == (QuestionnaireStatus.RETIRED, QuestionnaireStatus.ACTIVE)
    assert v1.retired_at is not None and v2.activated_at is not None
    shipped = importlib.import_module("screening.migrations.0002_default_questionnaire")
    assert list(v1.questions.values_list("key", "text", "options")) == [
        (key, text, options) for _s, key, text, _h, _k, _r, options, _x in shipped.QUESTIONS
    ]
    assert sorted(v1.flag_rules.values_list("question__key", "level", "explanation")) == sorted(
        (key, level, explanation) for key, _o, _v, level, explanation, _a in shipped.RULES
    )


def test_v2_keeps_every_v1_question_and_rule():
    v1, v2 = Questionnaire.objects.get(version=1), Questionnaire.objects.get(version=2)
    assert set(v1.questions.values_list("key", flat=True)) < set(
        v2.questions.values_list("key", flat=True)
    )

    def rules(version):
        return set(
            version.flag_rules.values_list(
                "question__key", "operator", "value", "level", "also_question__key", "also_value"
            )
        )

    assert rules(v1) < rules(v2)


def test_every_v2_rule_and_question_is_valid_and_activatable(questionnaire, make_staff):
    for question in questionnaire.questions.all():
        question.full_clean()
    for rule in questionnaire.flag_rules.all():
        rule.full_clean()
    assert questionnaire.flag_rules.filter(level=Level.URGENT).count() == 11
    draft = questionnaire.clone_as_draft()
    assert draft.blood_thinner_names == questionnaire.blood_thinner_names
    draft.activate(by=make_staff(superuser=True))
    assert Questionnaire.objects.active().get() == draft


def load(questionnaire):
    questions = list(Question.objects.filter(questionnaire=questionnaire).order_by("position"))
    rules = list(FlagRule.objects.filter(questionnaire=questionnaire))
    return questions, rules, triage.name_list(questionnaire.blood_thinner_names)


def cleaned(questions, post_data: dict) -> dict:
    """Form-style POST values as the form's cleaned answers (what triage reads)."""
    kinds = {f"q_{question.key}": question.kind for question in questions}
    answers = {}
    for name, value in post_data.items():
        if name not in kinds or value in ("", None, []):
            continue
        if kinds[name] == Kind.DATE:
            value = date.fromisoformat(value)
        elif kinds[name] == Kind.SCALE:
            value = int(value)
        answers[name.removeprefix("q_")] = value
    return answers


def test_every_v2_rule_has_a_case_that_raises_it(questionnaire):
    """Each rule fires, on its own, for at least one one-sign case above (or in v1's table)."""
    from tests.conftest import ROUTINE_ANSWERS

    questions, rules, names = load(questionnaire)
    today = date.today()
    cases = [*V1_CASES, *SIGNS]
    for rule in rules:
        raised_by = [
            case[0]
            for case in cases
            if triage.evaluate(
                questions, [rule], cleaned(questions, {**ROUTINE_ANSWERS, **case[1]}), today, names
            ).flags
            and OUTCOME_RANK[case[2]] >= OUTCOME_RANK[rule.level]
        ]
        assert raised_by, f"no test raises {rule}"


def test_a_blood_thinner_in_the_text_shows_staff_why(client, intake_data, clinician):
    submission = post(
        client,
        intake_data,
        {"q_takes_medicines": "yes", "q_medicines_list": "clopidogrel 75mg, Xarelto"},
    )
    assert submission.flags[0]["detail"] == "names clopidogrel, Xarelto"
    client.force_login(clinician)
    html = client.get(f"/admin/screening/intakesubmission/{submission.pk}/change/").content
    assert "(names clopidogrel, Xarelto)" in html.decode()


def test_a_clinic_extends_the_blood_thinner_list_in_a_draft(client, intake_data, make_staff):
    live = Questionnaire.objects.active().get()
    draft = live.clone_as_draft()
    draft.blood_thinner_names += "\nmadeupxaban\n"
    draft.save()
    draft.activate(by=make_staff(superuser=True))
    answers = {"q_takes_medicines": "yes", "q_medicines_list": "MadeUpXaban 10 mg"}
    submission = post(client, intake_data, {**answers, "version": str(draft.version)})
    assert submission.outcome == REVIEW
    assert submission.flags[0]["detail"] == "names madeupxaban"


def test_the_blood_thinner_list_is_editable_only_in_a_draft(client, make_staff, questionnaire):
    client.force_login(make_staff(superuser=True))
    url = f"/admin/screening/questionnaire/{questionnaire.pk}/change/"
    live = client.get(url).content.decode()
    assert 'name="blood_thinner_names"' not in live and "apixaban" in live
    draft = questionnaire.clone_as_draft()
    html = client.get(f"/admin/screening/questionnaire/{draft.pk}/change/").content.decode()
    assert re.search(r'<textarea name="blood_thinner_names"[^>]*>[^<]*warfarin', html)


def test_an_empty_list_with_a_free_text_rule_cannot_go_live(questionnaire):
    draft = questionnaire.clone_as_draft()
    draft.blood_thinner_names = "# nothing yet\n"
    draft.save()
    assert any("list of names is empty" in str(p) for p in draft.activation_problems())


def test_a_free_text_rule_takes_no_value(questionnaire):
    from django.core.exceptions import ValidationError

    rule = questionnaire.flag_rules.get(operator=Operator.NAMES_BLOOD_THINNER)
    rule.value = "warfarin"
    with pytest.raises(ValidationError, match="Leave this empty"):
        rule.full_clean()
    rule.question = questionnaire.questions.get(key="bleeding")
    rule.value = ""
    with pytest.raises(ValidationError, match="does not apply"):
        rule.full_clean()


def test_new_warning_questions_come_before_contact_details_with_conditions(client):
    html = client.get("/intake/").content.decode()
    contact = html.index('id="section-contact"')
    for key in ["sexual_problems", "health_risks", "sudden_severe", "morning_stiffness"]:
        assert html.index(f'name="q_{key}"') < contact, key
    # Urgent by themselves (heart problems are asked only after sudden severe pain).
    for key in ["sexual_problems", "heart_circulation"]:
        assert f'id="id_q_{key}_urgent"' in html, key
    assert 'id="id_q_sudden_severe_urgent"' not in html  # urgent only with age or heart
    for key, trigger in [
        ("health_risks_which", "health_risks"),
        ("heart_circulation", "sudden_severe"),
        ("stiffness_began_young", "morning_stiffness"),
    ]:
        wrapper = re.search(rf'<[^>]*id="id_q_{key}_wrap"[^>]*>', html).group(0)
        assert f'data-shown-if="q_{trigger}"' in wrapper and 'data-shown-value="yes"' in wrapper


def test_a_gate_answered_yes_needs_its_follow_up(client, intake_data):
    response = client.post("/intake/", intake_data(q_health_risks="yes"))
    assert response.status_code == 400
    assert "id_q_health_risks_which_0" in response.content.decode()
    assert not IntakeSubmission.objects.exists()


def test_most_patients_answer_few_extra_questions(questionnaire):
    """An all-clear patient is asked only five questions more than in version 1."""
    from tests.conftest import ROUTINE_ANSWERS

    questions, _rules, _names = load(questionnaire)
    v1_questions, _r, _n = load(Questionnaire.objects.get(version=1))
    answers = cleaned(questions, ROUTINE_ANSWERS)
    v2_asked = triage.visible_keys(questions, answers)
    v1_asked = triage.visible_keys(v1_questions, answers)
    assert len(v2_asked) - len(v1_asked) == 5


# The property test runs on plain objects loaded once: no database inside Hypothesis.
@pytest.fixture(scope="module")
def live_version(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return load(Questionnaire.objects.active().get())


TEXTS = ["", "none", "Warfarin 5mg", "ibuprofen", "aspirin 75 mg", "heparinised", "Nu Seals"]


@st.composite
def answer_sets(draw, questions):
    """Any answers at all to the live version (shown or not, sensible or not)."""
    answers = {}
    for question in questions:
        if question.kind in (Kind.YES_NO, Kind.CHOICE):
            value = draw(st.sampled_from([None, *sorted(question.option_values())]))
        elif question.kind == Kind.MULTI:
            value = draw(st.lists(st.sampled_from(sorted(question.option_values())), unique=True))
        elif question.kind == Kind.SCALE:
            value = draw(st.integers(0, 10))
        elif question.kind == Kind.DATE:
            value = date(2026, 1, 1) - timedelta(days=draw(st.integers(0, 100 * 366)))
        else:
            value = draw(st.sampled_from(TEXTS))
        if value not in (None, []):
            answers[question.key] = value
    return answers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_combination_is_less_urgent_than_any_flag_in_it(live_version, data):
    questions, rules, names = live_version
    answers = data.draw(answer_sets(questions))
    today = date(2026, 1, 1)
    result = triage.evaluate(questions, rules, answers, today, names)
    for rule in rules:
        alone = triage.evaluate(questions, [rule], answers, today, names)
        assert OUTCOME_RANK[result.outcome] >= OUTCOME_RANK[alone.outcome], rule
    # Saying yes to one more thing never makes the outcome less urgent.
    yes_no = [q.key for q in questions if q.kind == Kind.YES_NO and answers.get(q.key) != "yes"]
    if yes_no:
        key = data.draw(st.sampled_from(yes_no))
        more = triage.evaluate(questions, rules, {**answers, key: "yes"}, today, names)
        assert OUTCOME_RANK[more.outcome] >= OUTCOME_RANK[result.outcome], key


DEFAULT_NAMES = triage.name_list(triage.DEFAULT_BLOOD_THINNER_NAMES)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Warfarin 5 mg daily", ["warfarin"]),
        ("warfarin5mg", ["warfarin"]),
        ("XARELTO 20mg; clopidogrel", ["Xarelto", "clopidogrel"]),
        ("clopidogrel and Plavix, clopidogrel again", ["clopidogrel", "Plavix"]),
        ("nuseals / Nu Seals", ["Nu-Seals"]),
        ("aspirin 75 mg", ["aspirin"]),
        ("heparinised saline flush", []),
        ("antiwarfarin", []),
        ("paracetamol, ibuprofen", []),
        ("", []),
    ],
)
def test_blood_thinners_named(text, found):
    assert triage.blood_thinners_named(text, DEFAULT_NAMES) == found


def test_name_list_skips_notes_and_blank_lines():
    assert triage.name_list("# notes\nwarfarin  # vitamin K antagonist\n\n  Eliquis \n") == [
        "warfarin",
        "Eliquis",
    ]
    assert triage.blood_thinners_named("anything", ["", "  ", "--"]) == []


@settings(max_examples=60)
@given(
    name=st.sampled_from(DEFAULT_NAMES),
    before=st.text(alphabet=" ,.;:()/0123456789\n", max_size=8),
    after=st.text(alphabet=" ,.;:()/0123456789\n", max_size=8),
    upper=st.booleans(),
    glue=st.sampled_from(["", "x", "ine"]),
)
def test_a_listed_name_is_found_as_a_word_and_never_inside_one(name, before, after, upper, glue):
    written = name.upper() if upper else name
    assert name in triage.blood_thinners_named(f"{before}{written}{after}", DEFAULT_NAMES)
    inside = triage.blood_thinners_named(f"zz{written}{glue}", DEFAULT_NAMES)
    assert name not in inside


def test_version_2_fhir_questionnaire_is_valid_with_its_conditions(questionnaire):
    from screening import fhir
    from tests.test_screening_fhir import validate_questionnaire

    resource = fhir.questionnaire_resource(questionnaire, "Test Clinic")
    index = validate_questionnaire(resource)
    assert resource["version"] == "2"
    for key, trigger in [
        ("health_risks_which", "health_risks"),
        ("heart_circulation", "sudden_severe"),
        ("stiffness_began_young", "morning_stiffness"),
    ]:
        assert index[key][0]["enableWhen"] == [
            {"question": trigger, "operator": "=", "answerBoolean": True}
        ]
    codes = {o["valueCoding"]["code"] for o in index["pain_location"][0]["answerOption"]}
    assert "both_legs" in codes
