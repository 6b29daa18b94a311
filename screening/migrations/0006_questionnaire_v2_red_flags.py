"""Questionnaire version 2: the red flags of the guideline lists that version 1 did not ask.

Made the way staff make a version: version 1 is copied into a new version (its questions and
rules unchanged unless listed below), the new questions and rules are added, and the new version
goes live while version 1 is retired, untouched, so old submissions still read as asked.

A clinic that already runs a version of its own (version 1 is not the live one) gets version 2
as a draft to compare and activate itself, never over its own form. The README's red-flag
coverage table says which question and rule catch each sign. All wording is the clinic's own.
"""

from django.db import migrations
from django.utils import timezone

WARNING = "Warning signs"

# Question keys of version 1 that version 2 builds on; without them it is not created.
NEEDED = {
    "date_of_birth",
    "pain_location",
    "pain_duration",
    "leg_weakness",
    "fever_unwell",
    "saddle_numbness",
    "injury",
    "night_pain",
    "medicines_list",
    "bleeding",
}

# Version 1 questions reworded in version 2 (the old rows stay as they were).
CHANGED = {
    "pain_location": {
        "options": "lower_back | Lower back\n"
        "upper_back | Middle or upper back (between the shoulder blades and the waist)\n"
        "neck | Neck\n"
        "buttock | Buttock or hip\n"
        "leg_above_knee | Down a leg, no further than the knee\n"
        "leg_below_knee | Down a leg, below the knee\n"
        "both_legs | Pain, numbness or tingling in both legs",
    },
    "injury": {
        "text": "Did this pain start after a fall (even a small one, such as a trip or a slip), "
        "an accident or another injury?",
    },
}

# New questions, each placed after a version 1 question:
# after key -> [(key, text, help text, kind, required, options, shown if (key, value) or None)]
ADDED = {
    "saddle_numbness": [
        (
            "sexual_problems",
            "Since this pain began, have you noticed any new change in sexual function or "
            "feeling, such as less feeling in the genitals, or new difficulty getting an "
            "erection or reaching orgasm?",
            "It can feel awkward to mention, but it matters: it can be an early sign that the "
            "nerves at the base of the spine are being squeezed.",
            "yes_no",
            True,
            "",
            None,
        ),
    ],
    "fever_unwell": [
        (
            "health_risks",
            "Do you have a weakened immune system or weak bones, have you had an infection or a "
            "procedure on your spine recently, or do you inject drugs?",
            "For example steroid tablets for 3 months or more, chemotherapy, medicines after a "
            "transplant, HIV, osteoporosis, a urine infection in the last few weeks, or an "
            "injection into your spine in the last 3 months. If yes, we ask which.",
            "yes_no",
            True,
            "",
            None,
        ),
        (
            "health_risks_which",
            "Which of these apply to you?",
            "Tick all that apply.",
            "multi",
            True,
            "steroids | Steroid tablets (such as prednisolone) taken for 3 months or more, now "
            "or in the last year\n"
            "weak_immunity | A weakened immune system: chemotherapy, medicines after a "
            "transplant, HIV, or another illness or medicine that lowers immunity\n"
            "injecting_drugs | Injecting drugs, now or in the last year\n"
            "recent_infection | An infection somewhere else in the last few weeks, such as a "
            "urine, chest or skin infection\n"
            "spinal_procedure | An injection into the spine, or an operation on it, in the last "
            "3 months\n"
            "osteoporosis | Osteoporosis (thin bones), or a bone broken by a small fall or "
            "knock\n"
            "unsure | Something like these, but I am not sure which",
            ("health_risks", "yes"),
        ),
        (
            "sudden_severe",
            "Did severe pain in your back or tummy (abdomen) come on suddenly, over minutes "
            "rather than hours or days?",
            "",
            "yes_no",
            True,
            "",
            None,
        ),
        (
            "heart_circulation",
            "Do you have heart or circulation problems, such as angina, a heart attack, a "
            "stroke, an aneurysm (a swollen blood vessel) or narrowed arteries in the legs?",
            "",
            "yes_no",
            True,
            "",
            ("sudden_severe", "yes"),
        ),
    ],
    "night_pain": [
        (
            "constant_worsening",
            "Is the pain there all the time, and getting steadily worse from week to week?",
            "",
            "yes_no",
            True,
            "",
            None,
        ),
        (
            "morning_stiffness",
            "Is your back stiff for more than half an hour after you get up in the morning, "
            "easing as you move about?",
            "",
            "yes_no",
            True,
            "",
            None,
        ),
        (
            "stiffness_began_young",
            "Did this kind of back pain first start before you were 45?",
            "",
            "yes_no",
            True,
            "",
            ("morning_stiffness", "yes"),
        ),
    ],
}

CES_BOTH_LEGS = (
    "Weakness or numbness getting worse in both legs can mean the nerves at the base of the "
    "spine are being squeezed. This must be checked in hospital today."
)
INFECTION_NERVES = (
    "A high temperature or feeling unwell together with worsening weakness or numbness in the "
    "legs can mean an infection near the spine is pressing on the nerves. Go to an emergency "
    "department today."
)
RISK_NERVES = (
    "Worsening weakness or numbness in the legs, together with a weakened immune system, a "
    "recent infection or spinal procedure, or weak bones, can mean an infection or a broken "
    "bone is pressing on the nerves. Go to an emergency department today."
)
VASCULAR = (
    "Sudden severe pain in the back or tummy can, rarely, come from the main blood vessel in "
    "the tummy (the aorta), and this is more likely over the age of 60 or with heart or "
    "circulation problems. It is an emergency: call 999 now, especially if you feel faint, "
    "sweaty or sick."
)
THORACIC = (
    "New pain in the middle or upper back is less common than low back pain, so a clinician "
    "will talk with you before treatment, to check whether it needs other tests first."
)

# (question key, operator, value, level, explanation, optional (also key, operator, value))
ADDED_RULES = [
    # Cauda equina
    (
        "sexual_problems",
        "is",
        "yes",
        "urgent",
        "A new change in sexual function or feeling, together with back pain, can mean the "
        "nerves at the base of the spine are being squeezed. This must be checked in hospital "
        "today, because quick treatment protects those nerves.",
        None,
    ),
    ("leg_weakness", "is", "yes", "urgent", CES_BOTH_LEGS, ("pain_location", "includes", "both_legs")),
    (
        "pain_location",
        "includes",
        "both_legs",
        "review",
        "Pain, numbness or tingling in both legs is worth a clinician's conversation before "
        "treatment. If you also notice any change in bladder, bowel or sexual function, or "
        "numbness around your bottom, get medical help at once.",
        None,
    ),
    # Infection
    ("fever_unwell", "is", "yes", "urgent", INFECTION_NERVES, ("leg_weakness", "is", "yes")),
    ("leg_weakness", "is", "yes", "urgent", RISK_NERVES, ("health_risks", "is", "yes")),
    (
        "health_risks_which",
        "includes",
        "steroids",
        "review",
        "Steroid tablets taken for a long time can thin the bones and lower the body's defences "
        "against infection. A clinician will talk with you before treatment, in case the pain "
        "needs an X-ray, a scan or a blood test first.",
        None,
    ),
    (
        "health_risks_which",
        "includes",
        "weak_immunity",
        "review",
        "When the immune system is weakened, an infection in the spine is more likely and can "
        "show few other signs. A clinician will talk with you before any treatment.",
        None,
    ),
    (
        "health_risks_which",
        "includes",
        "injecting_drugs",
        "review",
        "Injecting drugs makes an infection in the bones of the spine more likely. A clinician "
        "will talk with you in confidence before any treatment, to check whether you need other "
        "tests first.",
        None,
    ),
    (
        "health_risks_which",
        "includes",
        "recent_infection",
        "review",
        "An infection elsewhere in the body can occasionally spread to the spine. A clinician "
        "will talk with you before treatment, to check for signs of that.",
        None,
    ),
    (
        "health_risks_which",
        "includes",
        "spinal_procedure",
        "review",
        "New or worse pain after an injection or an operation on the spine can occasionally "
        "mean an infection. A clinician will talk with you first; please also tell the team "
        "who did the procedure.",
        None,
    ),
    (
        "health_risks_which",
        "includes",
        "osteoporosis",
        "review",
        "With thin bones, a bone in the spine can give way after a small fall, or even without "
        "one. A clinician will talk with you first, in case you need an X-ray.",
        None,
    ),
    (
        "health_risks_which",
        "includes",
        "unsure",
        "review",
        "A clinician will ask you about your health before any treatment, to be sure it is "
        "safe for you.",
        None,
    ),
    # Fracture and a vascular cause
    (
        "sudden_severe",
        "is",
        "yes",
        "review",
        "Pain that comes on suddenly and severely is checked by a clinician before any "
        "treatment, to be sure it does not need other care first.",
        None,
    ),
    (
        "sudden_severe",
        "is",
        "yes",
        "review",
        "Sudden severe pain in the middle of the back can mean a bone in the spine has given "
        "way, especially with thin bones. A clinician will talk with you first, in case you "
        "need an X-ray.",
        ("pain_location", "includes", "upper_back"),
    ),
    ("sudden_severe", "is", "yes", "urgent", VASCULAR, ("date_of_birth", "age_over", "60")),
    # Shown only after "yes" to sudden severe pain, so this is "sudden pain and heart or
    # circulation problems"; a rule without a second condition shows the urgent advice at once.
    ("heart_circulation", "is", "yes", "urgent", VASCULAR, None),
    # Cancer
    (
        "constant_worsening",
        "is",
        "yes",
        "review",
        "Pain that never lets up and keeps getting worse is worth a clinician's conversation "
        "before treatment, to check whether it needs tests first. We also recommend you "
        "mention it to your GP.",
        None,
    ),
    ("pain_location", "includes", "upper_back", "review", THORACIC, ("pain_duration", "is", "under_6_weeks")),
    ("pain_location", "includes", "upper_back", "review", THORACIC, ("pain_duration", "is", "6_to_12_weeks")),
    # Inflammatory back pain (review, never urgent)
    (
        "stiffness_began_young",
        "is",
        "yes",
        "review",
        "Long morning stiffness that eases as you move, in back pain that began before 45, can "
        "be a sign of inflammation of the spine (axial spondyloarthritis), which has its own "
        "treatments. A clinician will talk with you, and may suggest your GP checks for it.",
        None,
    ),
]

# Read against the version's blood thinner list (the names live on the version, as data).
MEDICINES_RULE = ("medicines_list", "thinner", "", "review", None, None)

QUESTION_FIELDS = [
    "section",
    "key",
    "text",
    "help_text",
    "kind",
    "is_required",
    "options",
    "min_value",
    "max_value",
    "must_be_past",
    "shown_if_value",
]


def create_version_2(apps, schema_editor):
    Questionnaire = apps.get_model("screening", "Questionnaire")
    Question = apps.get_model("screening", "Question")
    FlagRule = apps.get_model("screening", "FlagRule")
    source = Questionnaire.objects.filter(version=1).first()
    if source is None or Question.objects.filter(key="health_risks").exists():
        return
    old_questions = list(source.questions.order_by("position"))
    if not NEEDED <= {question.key for question in old_questions}:
        # Version 1 was rebuilt by the clinic: adding to it blindly could clash. Staff can copy
        # the rules from the README's coverage table into their own draft instead.
        return
    latest = Questionnaire.objects.order_by("-version").first()
    draft = Questionnaire.objects.create(
        version=latest.version + 1,
        title=source.title,
        status="draft",
        introduction=source.introduction,
        privacy_notice=source.privacy_notice,
        contact_consent_text=source.contact_consent_text,
        blood_thinner_names=source.blood_thinner_names,
    )
    old_key_by_pk = {question.pk: question.key for question in old_questions}
    rows = []
    for old in old_questions:
        fields = {name: getattr(old, name) for name in QUESTION_FIELDS}
        fields.update(CHANGED.get(old.key, {}))
        rows.append((fields, old_key_by_pk.get(old.shown_if_question_id)))
        for key, text, help_text, kind, required, options, shown_if in ADDED.get(old.key, []):
            fields = {
                "section": WARNING,
                "key": key,
                "text": text,
                "help_text": help_text,
                "kind": kind,
                "is_required": required,
                "options": options,
                "shown_if_value": shown_if[1] if shown_if else "",
            }
            rows.append((fields, shown_if[0] if shown_if else None))
    by_key = {}
    for position, (fields, shown_if_key) in enumerate(rows, start=1):
        by_key[fields["key"]] = Question.objects.create(
            questionnaire=draft,
            position=position * 10,
            shown_if_question=by_key[shown_if_key] if shown_if_key else None,
            **fields,
        )
    for rule in source.flag_rules.select_related("question", "also_question"):
        FlagRule.objects.create(
            questionnaire=draft,
            question=by_key[rule.question.key],
            operator=rule.operator,
            value=rule.value,
            level=rule.level,
            explanation=rule.explanation,
            also_question=by_key[rule.also_question.key] if rule.also_question_id else None,
            also_operator=rule.also_operator,
            also_value=rule.also_value,
        )
    # The same explanation as answering yes to blood thinners, so the patient reads it once.
    bleeding = source.flag_rules.filter(question__key="bleeding", level="review").first()
    key, operator, value, level, _explanation, _also = MEDICINES_RULE
    added = [*ADDED_RULES]
    if bleeding is not None:
        added.append((key, operator, value, level, bleeding.explanation, None))
    for key, operator, value, level, explanation, also in added:
        FlagRule.objects.create(
            questionnaire=draft,
            question=by_key[key],
            operator=operator,
            value=value,
            level=level,
            explanation=explanation,
            also_question=by_key[also[0]] if also else None,
            also_operator=also[1] if also else "",
            also_value=also[2] if also else "",
        )
    if source.status == "active":
        now = timezone.now()
        source.status = "retired"
        source.retired_at = now
        source.save(update_fields=["status", "retired_at"])
        draft.status = "active"
        draft.activated_at = now
        draft.save(update_fields=["status", "activated_at"])


def remove_version_2(apps, schema_editor):
    Questionnaire = apps.get_model("screening", "Questionnaire")
    version_2 = Questionnaire.objects.filter(questions__key="health_risks").distinct().first()
    if version_2 is None:
        return
    if version_2.submissions.exists():
        raise RuntimeError(
            f"Questionnaire version {version_2.version} has submissions; it cannot be removed."
        )
    was_active = version_2.status == "active"
    # Conditions point at questions of the same version with PROTECT: undo them first.
    version_2.questions.update(shown_if_question=None)
    version_2.delete()
    if was_active:
        Questionnaire.objects.filter(version=1).update(status="active", retired_at=None)


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_blood_thinner_names_in_free_text")]

    operations = [migrations.RunPython(create_version_2, remove_version_2)]
