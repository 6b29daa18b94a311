"""Triage: every version 1 flag rule (kept in version 2), table-driven, through the live form."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from screening import triage
from screening.models import FlagRule, IntakeSubmission, Level, Outcome, Question

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]


def born_years_ago(years: int, days_more: int = 1) -> str:
    today = timezone.localdate()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return (anniversary - timedelta(days=days_more)).isoformat()


URGENT, REVIEW, ROUTINE = Outcome.URGENT, Outcome.REVIEW, Outcome.ROUTINE

CASES = [
    # (description, answers changed from an all-clear form, outcome, flagged question keys)
    ("all clear", {}, ROUTINE, []),
    ("bladder or bowel change", {"q_bladder_bowel": "yes"}, URGENT, ["bladder_bowel"]),
    ("saddle numbness", {"q_saddle_numbness": "yes"}, URGENT, ["saddle_numbness"]),
    ("worsening leg weakness", {"q_leg_weakness": "yes"}, URGENT, ["leg_weakness"]),
    ("fever or unwell", {"q_fever_unwell": "yes"}, URGENT, ["fever_unwell"]),
    ("cancer history", {"q_cancer_history": "yes"}, REVIEW, ["cancer_history"]),
    ("unexplained weight loss", {"q_weight_loss": "yes"}, REVIEW, ["weight_loss"]),
    (
        "injury, not severe",
        {"q_injury": "yes", "q_injury_severe": "no"},
        REVIEW,
        ["injury"],
    ),
    (
        "injury, severe since",
        {"q_injury": "yes", "q_injury_severe": "yes"},
        URGENT,
        ["injury", "injury_severe"],
    ),
    ("night pain not eased by rest", {"q_night_pain": "yes"}, REVIEW, ["night_pain"]),
    (
        "under 20 with new pain",
        {"q_date_of_birth": born_years_ago(19), "q_pain_duration": "under_6_weeks"},
        REVIEW,
        ["date_of_birth"],
    ),
    (
        "under 20 with long-standing pain",
        {"q_date_of_birth": born_years_ago(19), "q_pain_duration": "over_12_weeks"},
        ROUTINE,
        [],
    ),
    (
        "exactly 20 with new pain",
        {"q_date_of_birth": born_years_ago(20, 0), "q_pain_duration": "under_6_weeks"},
        ROUTINE,
        [],
    ),
    (
        "51 with new pain",
        {"q_date_of_birth": born_years_ago(51), "q_pain_duration": "under_6_weeks"},
        REVIEW,
        ["date_of_birth"],
    ),
    (
        "exactly 50 with new pain",
        {"q_date_of_birth": born_years_ago(50), "q_pain_duration": "under_6_weeks"},
        ROUTINE,
        [],
    ),
    (
        "over 50 with pain for 6-12 weeks",
        {"q_date_of_birth": born_years_ago(70), "q_pain_duration": "6_to_12_weeks"},
        ROUTINE,
        [],
    ),
    ("implanted device", {"q_implanted_device": "yes"}, REVIEW, ["implanted_device"]),
    ("bleeding risk", {"q_bleeding": "yes"}, REVIEW, ["bleeding"]),
    ("pregnancy", {"q_pregnant": "yes"}, REVIEW, ["pregnant"]),
    ("seizures", {"q_seizures": "yes"}, REVIEW, ["seizures"]),
    ("skin problem near the area", {"q_skin_problem": "yes"}, REVIEW, ["skin_problem"]),
    ("needle fear or fainting", {"q_needles_fainting": "yes"}, REVIEW, ["needles_fainting"]),
    (
        "urgent wins over review",
        {"q_pregnant": "yes", "q_saddle_numbness": "yes", "q_cancer_history": "yes"},
        URGENT,
        ["saddle_numbness", "cancer_history", "pregnant"],
    ),
    (
        "severe-injury answer ignored when there was no injury",
        {"q_injury": "no", "q_injury_severe": "yes"},
        ROUTINE,
        [],
    ),
    (
        "high pain scores alone are routine",
        {"q_pain_now": "10", "q_impact_sleep": "10"},
        ROUTINE,
        [],
    ),
]


@pytest.mark.parametrize(
    ("answers", "outcome", "flagged"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_outcome_for_each_rule(client, intake_data, answers, outcome, flagged):
    response = client.post("/intake/", intake_data(**answers))
    assert response.status_code == 302, response.content.decode()[:2000]
    submission = IntakeSubmission.objects.get()
    assert submission.outcome == outcome
    assert [flag["key"] for flag in submission.flags] == flagged
    assert all(flag["explanation"] for flag in submission.flags)


def test_every_version_1_rule_is_covered_by_the_table():
    # Version 1 (retired) rules, which version 2 keeps; its own are in test_screening_red_flags.
    covered = {key for case in CASES for key in case[3]}
    rule_keys = set(
        FlagRule.objects.filter(questionnaire__version=1).values_list("question__key", flat=True)
    )
    assert rule_keys == covered


def test_every_version_1_rule_is_valid():
    for rule in FlagRule.objects.filter(questionnaire__version=1):
        rule.full_clean()
    for question in Question.objects.filter(questionnaire__version=1):
        question.full_clean()
    assert FlagRule.objects.filter(questionnaire__version=1, level=Level.URGENT).count() == 5


@pytest.mark.parametrize(
    ("outcome", "heading", "absent"),
    [
        (URGENT, "Please get urgent medical help now", "within 2 working days"),
        (REVIEW, "A clinician will call you first", "urgent medical help now"),
        (ROUTINE, "Thank you, we have your answers", "clinician will call"),
    ],
)
def test_result_page_tells_the_patient_what_to_do(client, intake_data, outcome, heading, absent):
    from clinic.models import ClinicDetails

    details = ClinicDetails.load()
    details.urgent_care_message = "Our clinic cannot treat this: please go today."
    details.urgent_advice_phone = "111"
    details.save()
    answers = {URGENT: {"q_bladder_bowel": "yes"}, REVIEW: {"q_pregnant": "yes"}, ROUTINE: {}}
    response = client.post("/intake/", intake_data(**answers[outcome]), follow=True)
    html = response.content.decode()
    assert heading in html
    assert absent not in html
    if outcome == URGENT:
        assert "Our clinic cannot treat this: please go today." in html
        assert 'href="tel:999"' in html and 'href="tel:111"' in html
        assert "book" not in html.lower().replace("booking", "")  # no booking offered
        assert "nerves at the base of the spine" in html  # the explanation
    if outcome == REVIEW:
        assert "some points are avoided" in html


DEMO_URGENT_MESSAGE = (
    "Some of your answers can be signs of a problem that needs a doctor today, not an "
    "acupuncture appointment. Please do not wait for us to contact you."
)


@pytest.mark.parametrize("message", [DEMO_URGENT_MESSAGE, ""])
def test_urgent_result_says_it_once_in_the_clinic_words_or_a_default(client, intake_data, message):
    from clinic.models import ClinicDetails

    ClinicDetails.objects.update(urgent_care_message=message)
    response = client.post("/intake/", intake_data(q_bladder_bowel="yes"), follow=True)
    html = response.content.decode()
    urgent_box = html[html.index('id="outcome-urgent"') : html.index('class="phones"')]
    assert urgent_box.count("needs a doctor today") == 1
    if message:
        assert "not an acupuncture appointment" in urgent_box
        assert "until you have been checked" not in urgent_box
    else:
        assert "do not have acupuncture until you have been checked" in urgent_box


def make_question(pk, key, kind, position, shown_if=None, value=""):
    return Question(
        pk=pk,
        key=key,
        kind=kind,
        position=position,
        shown_if_question_id=shown_if,
        shown_if_value=value,
    )


def test_visibility_follows_chains_of_conditions():
    questions = [
        make_question(1, "a", "yes_no", 1),
        make_question(2, "b", "yes_no", 2, shown_if=1, value="yes"),
        make_question(3, "c", "multi", 3, shown_if=2, value="yes"),
        make_question(4, "d", "short_text", 4, shown_if=3, value="x"),
    ]
    assert triage.visible_keys(questions, {"a": "yes", "b": "yes", "c": ["x", "y"]}) == {
        "a",
        "b",
        "c",
        "d",
    }
    assert triage.visible_keys(questions, {"a": "no", "b": "yes", "c": ["x"]}) == {"a"}


def test_numeric_thresholds():
    today = date(2026, 6, 1)
    assert triage.condition_holds("number", "at_least", "7", 7, today)
    assert not triage.condition_holds("number", "at_least", "7", 6.9, today)
    assert triage.condition_holds("scale", "at_most", "2", 0, today)
    assert not triage.condition_holds("scale", "at_most", "2", None, today)


def test_age_is_counted_in_whole_years():
    assert triage.age_on(date(2000, 6, 2), date(2020, 6, 1)) == 19
    assert triage.age_on(date(2000, 6, 1), date(2020, 6, 1)) == 20
    assert triage.age_on(date(2000, 2, 29), date(2021, 2, 28)) == 20


PURE_TRIAGE_SCRIPT = """
import sys
from datetime import date
from types import SimpleNamespace as Q

from screening import triage

question = Q(pk=1, key="saddle", kind="yes_no", position=1, shown_if_question_id=None)
rule = Q(question_id=1, operator="is", value="yes", also_question_id=None, level="urgent",
         explanation="Nerves")
result = triage.evaluate([question], [rule], {"saddle": "yes"}, date(2025, 1, 1))
assert result.outcome == "urgent", result
assert "django.conf" not in sys.modules or not __import__("django.conf").conf.settings.configured
print(result.outcome)
"""


def test_triage_imports_and_runs_without_django_settings(tmp_path):
    """Like articles/body.py, the triage rules are pure: no settings, no app registry."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    result = subprocess.run(
        [sys.executable, "-c", PURE_TRIAGE_SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "urgent"
