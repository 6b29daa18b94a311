"""Triage: which questions apply, and what the answers mean. Pure functions, no database access.

The outcome is `urgent` if any urgent flag is raised, else `review` if any review flag is raised,
else `routine`. Answers are the cleaned values keyed by question key: "yes"/"no" for yes/no,
the option value for a single choice, a list of values for multiple choice, an int for a scale,
a Decimal for a number, a date for a date, and a string for text.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from .choices import Kind, Level, Operator, Outcome


@dataclass(frozen=True)
class Flag:
    level: str
    question_key: str
    explanation: str


@dataclass(frozen=True)
class Triage:
    outcome: str
    flags: list[Flag]


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def is_answered(value) -> bool:
    return value not in (None, "", [])


def visible_keys(questions, answers) -> set[str]:
    """Keys of the questions a patient with these answers is asked (conditions go backwards)."""
    by_pk = {question.pk: question for question in questions}
    visible = set()
    for question in sorted(questions, key=lambda q: q.position):
        trigger = by_pk.get(question.shown_if_question_id)
        if question.shown_if_question_id is None:
            visible.add(question.key)
        elif trigger is not None and trigger.key in visible:
            answer = answers.get(trigger.key)
            if answer == question.shown_if_value or (
                isinstance(answer, list) and question.shown_if_value in answer
            ):
                visible.add(question.key)
    return visible


def condition_holds(kind: str, operator: str, expected: str, answer, today: date) -> bool:
    if not is_answered(answer):
        return False
    if operator == Operator.IS:
        return str(answer) == expected
    if operator == Operator.INCLUDES:
        return isinstance(answer, list) and expected in answer
    try:
        threshold = Decimal(expected)
    except InvalidOperation:
        return False
    if operator in (Operator.AGE_UNDER, Operator.AGE_OVER):
        if kind != Kind.DATE or not isinstance(answer, date):
            return False
        age = age_on(answer, today)
        return age < threshold if operator == Operator.AGE_UNDER else age > threshold
    number = Decimal(answer)
    return number >= threshold if operator == Operator.AT_LEAST else number <= threshold


def evaluate(questions, rules, answers, today: date) -> Triage:
    """Apply the flag rules to the answers of the questions the patient was actually shown."""
    by_pk = {question.pk: question for question in questions}
    shown = visible_keys(questions, answers)
    flags = []
    for rule in rules:
        conditions = [(rule.question_id, rule.operator, rule.value)]
        if rule.also_question_id:
            conditions.append((rule.also_question_id, rule.also_operator, rule.also_value))
        if all(
            (question := by_pk.get(pk)) is not None
            and question.key in shown
            and condition_holds(question.kind, operator, value, answers.get(question.key), today)
            for pk, operator, value in conditions
        ):
            flags.append(Flag(rule.level, by_pk[rule.question_id].key, rule.explanation))
    levels = {flag.level for flag in flags}
    if Level.URGENT in levels:
        outcome = Outcome.URGENT
    elif Level.REVIEW in levels:
        outcome = Outcome.REVIEW
    else:
        outcome = Outcome.ROUTINE
    return Triage(outcome, flags)
