"""The default intake questionnaire (version 1, active); the staff groups live in clinic/roles.py.

All wording is the clinic's own. It follows the red flags for low back pain listed in clinical
guidelines and the usual cautions for acupuncture, but copies no licensed instrument.
"""

from django.db import migrations

INTRODUCTION = (
    "This form helps us understand your back pain and check that acupuncture is safe for you "
    "before we book an appointment. It takes about 10 minutes. Questions are required unless "
    "they say optional. If you feel very unwell now, do not fill in this form: call 999 or go "
    "to your nearest emergency department."
)

PRIVACY_NOTICE = """\
What we collect: your contact details and your answers to this form, which include information \
about your health.

Why: to decide whether acupuncture at this clinic is suitable and safe for you, to contact you \
about an appointment, and to make sure anything urgent is acted on. Our lawful basis is the \
provision of health care.

Who sees it: only the clinic's clinical staff. Your answers are never put in emails and are not \
shared with anyone else unless you agree, or unless we must by law or to protect you from \
serious harm.

How long we keep it: we keep intake forms for as long as our retention policy allows and then \
delete them. If you become a patient, the relevant details move to your clinical record.

Your rights: you can ask to see, correct or delete your information by contacting the clinic."""

CONTACT_CONSENT = "I agree that the clinic may contact me about this form using the details above."

# Each question: (section, key, text, help text, kind, required, options, extras)
ABOUT = "About you"
PAIN = "Your back pain"
WARNING = "Warning signs"
SAFETY = "Acupuncture safety"
MEDICINES = "Medicines and anything else"

QUESTIONS = [
    (ABOUT, "date_of_birth", "What is your date of birth?", "For example 31/03/1980.", "date",
     True, "", {"must_be_past": True}),
    (PAIN, "pain_location", "Where do you feel the pain?", "Tick all that apply.", "multi", True,
     "lower_back | Lower back\n"
     "upper_back | Middle or upper back\n"
     "neck | Neck\n"
     "buttock | Buttock or hip\n"
     "leg_above_knee | Down one or both legs, no further than the knee\n"
     "leg_below_knee | Down one or both legs, below the knee", {}),
    (PAIN, "pain_duration", "How long have you had this episode of pain?", "", "choice", True,
     "under_6_weeks | Less than 6 weeks\n"
     "6_to_12_weeks | Between 6 and 12 weeks\n"
     "over_12_weeks | More than 12 weeks", {}),
    (PAIN, "pain_now", "How strong is the pain right now?",
     "0 means no pain at all and 10 means the worst pain you can imagine.", "scale", True, "", {}),
    (PAIN, "pain_average", "Thinking about the last 7 days, how strong has the pain been on "
     "average?", "0 means no pain at all and 10 means the worst pain you can imagine.", "scale",
     True, "", {}),
    (PAIN, "impact_daily", "How much does the pain get in the way of everyday things, such as "
     "work, housework, shopping or getting about?",
     "0 means not at all and 10 means you cannot do them at all.", "scale", True, "", {}),
    (PAIN, "impact_sleep", "How much does the pain disturb your sleep?",
     "0 means not at all and 10 means you can hardly sleep.", "scale", True, "", {}),
    (PAIN, "tried", "What have you already tried for this pain?",
     "Optional. Tick all that apply.", "multi", False,
     "pharmacy_painkillers | Painkillers from a pharmacy or shop\n"
     "prescribed_medicine | Medicine prescribed by a doctor\n"
     "exercise | Physiotherapy or an exercise programme\n"
     "manual_therapy | Massage, osteopathy or chiropractic\n"
     "acupuncture | Acupuncture\n"
     "injection | Injections\n"
     "surgery | An operation on the spine\n"
     "nothing | Nothing yet", {}),
    (PAIN, "tried_notes", "Tell us what helped and what did not.",
     "Optional. A sentence or two is plenty.", "long_text", False, "", {}),
    (WARNING, "bladder_bowel", "Since this pain began, have you had any new problems with your "
     "bladder or bowel, such as not being able to pass urine, leaking, or not feeling when you "
     "need to go?", "", "yes_no", True, "", {}),
    (WARNING, "saddle_numbness", "Do you have numbness, tingling or less feeling around your "
     "bottom, genitals or inner thighs (the parts that would sit on a saddle)?", "", "yes_no",
     True, "", {}),
    (WARNING, "leg_weakness", "Is there weakness, numbness or pins and needles in one or both "
     "legs that is getting worse, or are you tripping because a foot drags?", "", "yes_no", True,
     "", {}),
    (WARNING, "fever_unwell", "Along with the back pain, do you have a high temperature, shivers, "
     "or feel generally unwell?", "", "yes_no", True, "", {}),
    (WARNING, "cancer_history", "Have you ever had cancer?", "", "yes_no", True, "", {}),
    (WARNING, "weight_loss", "Have you lost weight recently without trying to?", "", "yes_no",
     True, "", {}),
    (WARNING, "injury", "Did this pain start after a bad fall, an accident or another injury?",
     "", "yes_no", True, "", {}),
    (WARNING, "injury_severe", "Since that injury, have you been unable to stand or walk, or is "
     "the pain severe and getting worse?", "", "yes_no", True, "",
     {"shown_if": ("injury", "yes")}),
    (WARNING, "night_pain", "Is the pain worse at night, and does it stay bad even when you lie "
     "still and rest?", "", "yes_no", True, "", {}),
    (SAFETY, "implanted_device", "Do you have a pacemaker, an implanted defibrillator or any "
     "other electrical device inside your body?", "", "yes_no", True, "", {}),
    (SAFETY, "bleeding", "Do you have a bleeding or clotting condition, such as haemophilia, or "
     "take a medicine that thins the blood?",
     "For example warfarin, apixaban, rivaroxaban, edoxaban, dabigatran or clopidogrel.",
     "yes_no", True, "", {}),
    (SAFETY, "pregnant", "Are you pregnant, or could you be?", "", "yes_no", True, "", {}),
    (SAFETY, "seizures", "Do you have epilepsy, or have you ever had a seizure?", "", "yes_no",
     True, "", {}),
    (SAFETY, "skin_problem", "Is there an infection, rash, open wound or broken skin on or near "
     "the painful area?", "", "yes_no", True, "", {}),
    (SAFETY, "needles_fainting", "Are you very anxious about needles, or have you ever fainted "
     "during an injection or a blood test?", "", "yes_no", True, "", {}),
    (MEDICINES, "takes_medicines", "Do you take any medicines regularly?",
     "Include ones from a pharmacy or shop, and herbal remedies or supplements.", "yes_no",
     True, "", {}),
    (MEDICINES, "medicines_list", "Which medicines do you take?",
     "With doses if you know them.", "long_text", True, "",
     {"shown_if": ("takes_medicines", "yes")}),
    (MEDICINES, "anything_else", "Is there anything else you would like us to know?",
     "Optional.", "long_text", False, "", {}),
]

NERVES = (
    "New changes in bladder or bowel control, or numbness around the bottom and genitals, "
    "together with back pain can mean the nerves at the base of the spine are being squeezed. "
    "This must be checked in hospital today, because quick treatment protects those nerves."
)
NEW_PAIN_AGE = (
    "When back pain starts for the first time before the age of 20 or after 50, a clinician "
    "likes to talk it through with you first, to be sure nothing else needs checking."
)

# (question key, operator, value, level, explanation, optional (also key, operator, value))
RULES = [
    ("bladder_bowel", "is", "yes", "urgent", NERVES, None),
    ("saddle_numbness", "is", "yes", "urgent", NERVES, None),
    ("leg_weakness", "is", "yes", "urgent",
     "Weakness or numbness in the legs that is getting worse can mean a nerve is under "
     "increasing pressure. It needs a medical assessment today.", None),
    ("fever_unwell", "is", "yes", "urgent",
     "A temperature or feeling unwell together with back pain can be a sign of an infection, "
     "which needs a doctor to see you today.", None),
    ("injury_severe", "is", "yes", "urgent",
     "Severe or worsening pain, or not being able to stand or walk after an injury, needs a "
     "medical check today in case a bone has been damaged.", None),
    ("cancer_history", "is", "yes", "review",
     "Because you have had cancer, a clinician will talk with you before any treatment to check "
     "whether the pain needs other tests first. Please also tell your GP or cancer team about "
     "this new pain.", None),
    ("weight_loss", "is", "yes", "review",
     "Losing weight without trying can have many causes. A clinician will talk with you before "
     "treatment, and we recommend you mention it to your GP.", None),
    ("injury", "is", "yes", "review",
     "Pain that started with a fall or an accident is checked by a clinician before acupuncture, "
     "in case you need an X-ray or a scan first.", None),
    ("night_pain", "is", "yes", "review",
     "Pain that stays bad at night even when resting is worth a clinician's conversation before "
     "treatment, to rule out causes that need other care.", None),
    ("date_of_birth", "age_under", "20", "review", NEW_PAIN_AGE,
     ("pain_duration", "is", "under_6_weeks")),
    ("date_of_birth", "age_over", "50", "review", NEW_PAIN_AGE,
     ("pain_duration", "is", "under_6_weeks")),
    ("implanted_device", "is", "yes", "review",
     "Some acupuncture uses a small electric current, which is never used near an implanted "
     "device. A clinician will agree a safe plan with you.", None),
    ("bleeding", "is", "yes", "review",
     "Needles can cause more bruising or bleeding when blood clots slowly. A clinician will check "
     "your condition or medicine with you first.", None),
    ("pregnant", "is", "yes", "review",
     "Acupuncture can be used in pregnancy, but some points are avoided. A clinician will talk "
     "with you before booking.", None),
    ("seizures", "is", "yes", "review",
     "A clinician will ask how your epilepsy or seizures are controlled so that treatment can be "
     "planned safely.", None),
    ("skin_problem", "is", "yes", "review",
     "Needles are never placed in infected or broken skin. A clinician will check with you when "
     "treatment can start.", None),
    ("needles_fainting", "is", "yes", "review",
     "This is common and we can help: a clinician will explain what to expect, and you can be "
     "treated lying down.", None),
]

def create_default_questionnaire(apps, schema_editor):
    Questionnaire = apps.get_model("screening", "Questionnaire")
    Question = apps.get_model("screening", "Question")
    FlagRule = apps.get_model("screening", "FlagRule")
    if Questionnaire.objects.exists():
        return
    questionnaire = Questionnaire.objects.create(
        version=1,
        title="Back pain intake form",
        status="active",
        introduction=INTRODUCTION,
        privacy_notice=PRIVACY_NOTICE,
        contact_consent_text=CONTACT_CONSENT,
    )
    by_key = {}
    for position, (section, key, text, help_text, kind, required, options, extras) in enumerate(
        QUESTIONS, start=1
    ):
        shown_if = extras.get("shown_if")
        by_key[key] = Question.objects.create(
            questionnaire=questionnaire,
            position=position * 10,
            section=section,
            key=key,
            text=text,
            help_text=help_text,
            kind=kind,
            is_required=required,
            options=options,
            must_be_past=extras.get("must_be_past", False),
            shown_if_question=by_key[shown_if[0]] if shown_if else None,
            shown_if_value=shown_if[1] if shown_if else "",
        )
    for key, operator, value, level, explanation, also in RULES:
        FlagRule.objects.create(
            questionnaire=questionnaire,
            question=by_key[key],
            operator=operator,
            value=value,
            level=level,
            explanation=explanation,
            also_question=by_key[also[0]] if also else None,
            also_operator=also[1] if also else "",
            also_value=also[2] if also else "",
        )


def remove_default_questionnaire(apps, schema_editor):
    Questionnaire = apps.get_model("screening", "Questionnaire")
    Questionnaire.objects.filter(version=1, submissions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_default_questionnaire, remove_default_questionnaire),
    ]
