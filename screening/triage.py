"""Triage: which questions apply, and what the answers mean. Pure functions, no database access.

The outcome is `urgent` if any urgent flag is raised, else `review` if any review flag is raised,
else `routine`. Answers are the cleaned values keyed by question key: "yes"/"no" for yes/no,
the option value for a single choice, a list of values for multiple choice, an int for a scale,
a Decimal for a number, a date for a date, and a string for text.

Free text is read for one thing: blood thinners named in it (`blood_thinners_named`), so that
"warfarin 5 mg daily" under medicines raises the same review flag as answering yes to blood
thinners. The names are data kept on each questionnaire version (`name_list` reads them).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from .choices import Kind, Level, Operator, Outcome

# The default list for new questionnaire versions; each clinic may extend its own copy.
# Aspirin is listed at every dose: its effect on platelets is irreversible whatever the dose
# (painkiller doses act at least as strongly as the 75 mg antiplatelet dose), a dose written in
# free text cannot be read reliably, and the flag only asks a clinician to call first.
DEFAULT_BLOOD_THINNER_NAMES = """\
# Anticoagulants (generic names, then common UK and US brand names)
warfarin
Coumadin
Jantoven
Marevan
acenocoumarol
Sinthrome
phenindione
apixaban
Eliquis
rivaroxaban
Xarelto
edoxaban
Lixiana
Savaysa
dabigatran
Pradaxa
heparin
enoxaparin
Clexane
Lovenox
Inhixa
dalteparin
Fragmin
tinzaparin
Innohep
fondaparinux
Arixtra
# Antiplatelets
clopidogrel
Plavix
Grepid
prasugrel
Efient
Effient
ticagrelor
Brilique
Brilinta
dipyridamole
Persantin
Asasantin
Aggrenox
cilostazol
Pletal
aspirin
Disprin
Nu-Seals
Ecotrin
"""


@dataclass(frozen=True)
class Flag:
    level: str
    question_key: str
    explanation: str
    # For staff, not patients: what in a free-text answer raised the flag.
    detail: str = ""


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


def name_list(text: str) -> list[str]:
    """The names in a list written one per line; blank lines and `#` comments are skipped."""
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for name in names if name]


def name_pattern(name: str) -> re.Pattern:
    """A name as a whole word, whatever the case, with its parts joined by spaces, hyphens or
    nothing ("Nu-Seals", "nu seals", "nuseals"). A digit may touch it ("warfarin5mg"), a letter
    may not ("heparinised" is not heparin)."""
    parts = re.findall(r"[^\W_]+", name.casefold())
    body = r"[\s\-]*".join(re.escape(part) for part in parts)
    return re.compile(rf"(?<![^\W\d_]){body}(?![^\W\d_])")


def blood_thinners_named(text: str, names: Iterable[str]) -> list[str]:
    """The listed names that `text` mentions, as the list spells them, in the order the text
    first mentions them. Matching ignores case and needs whole words."""
    if not isinstance(text, str) or not text:
        return []
    folded = text.casefold()
    found = []
    for name in names:
        if not re.findall(r"[^\W_]+", name):
            continue
        if match := name_pattern(name).search(folded):
            found.append((match.start(), name))
    return list(dict.fromkeys(name for _start, name in sorted(found)))


def condition_holds(
    kind: str, operator: str, expected: str, answer, today: date, names: Iterable[str] = ()
) -> bool:
    if not is_answered(answer):
        return False
    if operator == Operator.NAMES_BLOOD_THINNER:
        return bool(blood_thinners_named(answer, names))
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


def evaluate(questions, rules, answers, today: date, blood_thinner_names=()) -> Triage:
    """Apply the flag rules to the answers of the questions the patient was actually shown.

    `blood_thinner_names` is the version's list (see `name_list`) for rules that read free text.
    """
    by_pk = {question.pk: question for question in questions}
    shown = visible_keys(questions, answers)
    names = list(blood_thinner_names)
    flags = []
    for rule in rules:
        conditions = [(rule.question_id, rule.operator, rule.value)]
        if rule.also_question_id:
            conditions.append((rule.also_question_id, rule.also_operator, rule.also_value))
        if all(
            (question := by_pk.get(pk)) is not None
            and question.key in shown
            and condition_holds(
                question.kind, operator, value, answers.get(question.key), today, names
            )
            for pk, operator, value in conditions
        ):
            detail = "; ".join(
                f"names {', '.join(named)}"
                for pk, operator, _value in conditions
                if operator == Operator.NAMES_BLOOD_THINNER
                and (named := blood_thinners_named(answers.get(by_pk[pk].key), names))
            )
            flags.append(Flag(rule.level, by_pk[rule.question_id].key, rule.explanation, detail))
    levels = {flag.level for flag in flags}
    if Level.URGENT in levels:
        outcome = Outcome.URGENT
    elif Level.REVIEW in levels:
        outcome = Outcome.REVIEW
    else:
        outcome = Outcome.ROUTINE
    return Triage(outcome, flags)
