"""Demo data for `manage.py demo`: clinic details, the study library, articles and staff accounts.

Everything is created once: a second run finds what is there and creates nothing twice.
"""

import secrets
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles import demo_content, workflow
from articles.models import (
    Article,
    Citation,
    Claim,
    ReviewerProfile,
    Study,
    Topic,
    Verdict,
)
from questions import answering
from questions.emergency import emergency_terms
from questions.models import PatientQuestion
from screening import submissions as intake
from screening.forms import IntakeForm
from screening.models import IntakeSubmission, Question, Questionnaire

from .models import ClinicDetails

# username, first name, last name, group (None for the superuser)
DEMO_ACCOUNTS = [
    ("admin", "Clinic", "Administrator", None),
    ("author", "Sam", "Patel", "Authors"),
    ("reviewer", "Morgan", "Lee", "Medical reviewers"),
    ("clinician", "Jo", "Carter", "Clinical staff"),
]


def create_demo_accounts():
    """Create (or reset) one staff account per group plus a superuser; return their passwords."""
    User = get_user_model()
    passwords = {}
    for username, first_name, last_name, group_name in DEMO_ACCOUNTS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@clinic.example",
            },
        )
        user.is_staff = True
        user.is_superuser = group_name is None
        # A fresh random password each run: the demo never ships a known password.
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save()
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
        passwords[username] = (password, group_name or "Superuser")
    return passwords


def load_clinic_details():
    details = ClinicDetails.load()
    if not details.address:
        details.tagline = "Assessment and treatment for back pain, explained honestly."
        details.address = "12 Riverside Walk\nMillbrook\nMB1 2AB"
        details.phone = "01234 567890"
        details.email = "hello@clinic.example"
        details.opening_hours = "Monday to Friday 8am to 6pm\nSaturday 9am to 1pm"
        details.emergency_notice = (
            "This website cannot help in an emergency. If you have sudden severe symptoms, "
            "call 999. For urgent advice that is not an emergency, call 111."
        )
        details.urgent_care_message = (
            "Some of your answers can be signs of a problem that needs a doctor today, not an "
            "acupuncture appointment. Please do not wait for us to contact you."
        )
        details.emergency_phone = "999"
        details.urgent_advice_phone = "111"
        details.intake_email = "intake@clinic.example"
        details.save()
    return details


def load_studies():
    created = 0
    for record in demo_content.load_studies():
        _study, was_created = Study.objects.get_or_create(key=record["key"], defaults=record)
        created += was_created
    return created


def create_reviewer_profile(reviewer, today=None):
    today = today or timezone.localdate()
    ReviewerProfile.objects.get_or_create(
        user=reviewer,
        defaults={
            "display_name": "Dr Morgan Lee",
            "qualification": "MBChB, MSc in pain management; general practitioner",
            "registration_body": "General Medical Council",
            "registration_number": "7000001 (demo)",
            "verified_on": today - timedelta(days=60),
            "declared_interests": "None declared.",
            "biography": "A GP who has looked after people with back pain for fifteen years.",
        },
    )


def rate_certainty(article, claim, reviewer, ratings):
    """The demo reviewer's rating of one claim, from certainty.json. A claim missing there
    (its wording was edited) is left unrated, so approving it is refused, as it would be."""
    rating = demo_content.certainty_for(article.slug, claim.text, ratings)
    if rating is None:
        return False
    workflow.set_certainty(
        claim,
        kind=rating["kind"],
        certainty=rating["certainty"],
        wording=rating["wording"],
        by=reviewer,
    )
    return True


def review_as_supported(article, reviewer, now):
    """The demo reviewer's review of a published article: every citation checked, every
    claim rated on its own (certainty.json)."""
    revision = article.draft
    ratings = demo_content.load_certainty()
    for claim in revision.claims.prefetch_related("citations__study"):
        for citation in claim.citations.all():
            workflow.record_verdict(
                citation,
                verdict=Verdict.SUPPORTS,
                note="Checked against the paper.",
                by=reviewer,
                now=now,
            )
        rate_certainty(article, claim, reviewer, ratings)
    for finding in workflow.open_lint_findings(article, revision):
        workflow.dismiss_lint_finding(
            article,
            fingerprint=finding.fingerprint,
            by=reviewer,
            reason="Describes the evidence already cited nearby; not a new claim.",
            now=now,
        )


def review_in_part(article, reviewer, verdicts):
    """A review in progress: the verdicts from the demo file, some certainty, open warnings."""
    claims = list(article.draft.claims.prefetch_related("citations__study"))
    for record in verdicts:
        for claim in claims:
            if record["claim_contains"] not in claim.text:
                continue
            for citation in claim.citations.all():
                if citation.study.key == record["key"]:
                    workflow.record_verdict(
                        citation, verdict=record["verdict"], note=record["note"], by=reviewer
                    )
    # Half-way through: only the first half of the claims are rated so far.
    ratings = demo_content.load_certainty()
    for claim in claims[: len(claims) // 2]:
        rate_certainty(article, claim, reviewer, ratings)


@transaction.atomic
def load_articles(users, now=None):
    """Create the demo articles that do not exist yet, taking each through the workflow
    (submit, review, approve, publish) as far as its file's status says."""
    now = now or timezone.now()
    author, reviewer = users["author"], users["reviewer"]
    create_reviewer_profile(reviewer, timezone.localdate(now))
    created = 0
    for record in demo_content.load_articles():
        if Article.objects.filter(slug=record["slug"]).exists():
            continue
        topic, _ = Topic.objects.get_or_create(
            slug=slugify(record["topic"]), defaults={"name": record["topic"]}
        )
        article = Article.objects.create(
            slug=record["slug"], topic=topic, author=author, reviewer=reviewer
        )
        workflow.save_draft(
            article,
            title=record["title"],
            summary=record["summary"],
            body=record["body"],
            by=author,
        )
        status = record["status"]
        if status in ("published", "in_review"):
            when = now - timedelta(days=record.get("published_days_ago") or 0)
            # Back-date the whole story, so the history and dossiers read as they would have.
            article.revisions.update(created_at=when - timedelta(days=3))
            workflow.submit_for_review(article, by=author, now=when - timedelta(days=2))
            article.refresh_from_db()
            if status == "published":
                review_as_supported(article, reviewer, when - timedelta(days=1))
                workflow.approve(article, by=reviewer, now=when)
                workflow.publish(article, by=reviewer, now=when)
            else:
                review_in_part(article, reviewer, demo_content.load_verdicts())
                workflow.add_comment(
                    article,
                    body="Good draft. Two claims say more than the sources do; see my notes.",
                    by=reviewer,
                )
        created += 1
    return created


# Fictional patients for the intake queue, answering the live version (version 2). Each row:
# name, hours ago, answers changed from an all-clear form (the phone numbers are Ofcom's range
# for drama). Their outcomes come from the real triage rules, not from this list.
DEMO_NO_FLAGS = {
    "pain_location": ["lower_back"],
    "pain_duration": "over_12_weeks",
    "pain_now": "5",
    "pain_average": "5",
    "impact_daily": "5",
    "impact_sleep": "4",
    "bladder_bowel": "no",
    "saddle_numbness": "no",
    "sexual_problems": "no",
    "leg_weakness": "no",
    "fever_unwell": "no",
    "health_risks": "no",
    "sudden_severe": "no",
    "cancer_history": "no",
    "weight_loss": "no",
    "injury": "no",
    "night_pain": "no",
    "constant_worsening": "no",
    "morning_stiffness": "no",
    "implanted_device": "no",
    "bleeding": "no",
    "pregnant": "no",
    "seizures": "no",
    "skin_problem": "no",
    "needles_fainting": "no",
    "takes_medicines": "no",
}
DEMO_PATIENTS = [
    ("Dana Whitfield", 2, 44, {"sexual_problems": "yes", "pain_location": ["both_legs"]}),
    ("Eli Hartmann", 6, 71, {"sudden_severe": "yes", "heart_circulation": "yes"}),
    (
        "Frankie Osei",
        30,
        66,
        {"takes_medicines": "yes", "medicines_list": "Warfarin 3 mg each evening, ramipril"},
    ),
    (
        "Gabi Novak",
        55,
        38,
        {"health_risks": "yes", "health_risks_which": ["steroids", "osteoporosis"]},
    ),
    ("Harper Lund", 20, 29, {"morning_stiffness": "yes", "stiffness_began_young": "yes"}),
    ("Indy Achebe", 70, 47, {"tried": ["exercise"], "tried_notes": "Swimming helps."}),
]


def demo_form_data(questionnaire, name, age, answers):
    """A complete POST for the live version, as a patient would send it."""
    email = f"{name.split()[0].lower()}@example.com"
    # Half-way between birthdays, so the age is `age` whatever the day the demo runs.
    born = timezone.localdate() - timedelta(days=round((age + 0.5) * 365.25))
    data = {
        "token": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-intake:{name}")),
        "version": str(questionnaire.version),
        "full_name": name,
        "email": email,
        "phone": "01632 960" + str(100 + len(name)),
        "preferred_contact": "phone",
        "consent_contact": "on",
        "consent_privacy": "on",
        "q_date_of_birth": born.isoformat(),
    }
    data.update({f"q_{key}": value for key, value in {**DEMO_NO_FLAGS, **answers}.items()})
    return data


@transaction.atomic
def load_intake_submissions(now=None):
    """Demo intake forms on the live questionnaire, triaged by its rules; none are emailed."""
    now = now or timezone.now()
    questionnaire = Questionnaire.objects.active().first()
    if questionnaire is None:
        return 0
    questions = list(Question.objects.filter(questionnaire=questionnaire).order_by("position"))
    created = 0
    for name, hours_ago, age, answers in DEMO_PATIENTS:
        data = demo_form_data(questionnaire, name, age, answers)
        if IntakeSubmission.objects.filter(token=data["token"]).exists():
            continue
        form = IntakeForm(data, questionnaire=questionnaire, questions=questions)
        if not form.is_valid():
            raise ValueError(f"Demo intake form for {name} is invalid: {form.errors.as_json()}")
        cleaned, result = intake.evaluate(form)
        sent_at = now - timedelta(hours=hours_ago)
        IntakeSubmission.objects.create(
            token=data["token"],
            questionnaire=questionnaire,
            submitted_at=sent_at,
            full_name=name,
            email=data["email"],
            phone=data["phone"],
            preferred_contact=data["preferred_contact"],
            answers=form.answer_snapshot(cleaned),
            flags=intake.flag_records(result),
            outcome=result.outcome,
            consent_text=form.consent_text(),
            consented_at=sent_at,
            notified_at=sent_at,
        )
        created += 1
    return created


# Fictional patient questions: (article slug, question as asked, the public wording staff
# chose, consent to publish, the answer in Markdown or "" when not yet answered).
DEMO_QUESTIONS = [
    (
        "acupuncture-back-pain-evidence",
        "Hi, I'm 52 and my GP suggested needles for my back. If it works, does the effect wear "
        "off as soon as I stop going?",
        "If acupuncture helps my back pain, does the effect wear off once the sessions stop?",
        True,
        "A pooled analysis of the original trial data found that most of the benefit over no "
        "acupuncture was still there a year after the course ended [@macpherson2017]. "
        "The smaller edge over fake acupuncture shrank over the same year [@macpherson2017].",
    ),
    (
        "acupuncture-back-pain-evidence",
        "How many sessions do people usually need before they can tell whether it is working?",
        "",
        True,
        "",
    ),
    (
        "acupuncture-back-pain-evidence",
        "Since yesterday I can't feel my legs properly and I'm struggling to pee. Should I still "
        "come in for my appointment on Friday?",
        "",
        False,
        "",
    ),
]


def load_patient_questions(users, now=None):
    """Demo questions: one answered in public through the review gate, one waiting, and one
    that reads like an emergency (flagged, as the ask page would flag it)."""
    now = now or timezone.now()
    author, reviewer = users["author"], users["reviewer"]
    created = 0
    for slug, text, public_text, consent, answer_body in DEMO_QUESTIONS:
        article = Article.objects.filter(slug=slug).first()
        if article is None or PatientQuestion.objects.filter(article=article, text=text).exists():
            continue
        terms = emergency_terms(text)
        question = PatientQuestion.objects.create(
            article=article,
            text=text,
            consent_to_publish=consent,
            is_emergency=bool(terms),
            emergency_terms=terms,
            asked_at=now - timedelta(days=3),
        )
        created += 1
        if not answer_body:
            continue
        question.public_text = public_text
        question.redacted_by, question.redacted_at = reviewer, now - timedelta(days=2)
        question.save()
        answer = answering.save_answer(question, body=answer_body, by=author)
        answering.submit_answer(answer, by=author)
        for citation in Citation.objects.filter(claim__answer=answer):
            answering.record_verdict(citation, verdict=Verdict.SUPPORTS, by=reviewer)
        for claim in Claim.objects.filter(answer=answer):
            answering.set_certainty(claim, certainty="moderate", kind="effect", by=reviewer)
        answering.approve_answer(answer, by=reviewer)
        answering.publish_answer(answer, by=reviewer)
    return created


def load_demo(stdout=None):
    """Load all demo content and accounts; return the accounts' passwords."""
    load_clinic_details()
    studies = load_studies()
    passwords = create_demo_accounts()
    User = get_user_model()
    users = {user.username: user for user in User.objects.filter(username__in=passwords)}
    articles = load_articles(users)
    forms = load_intake_submissions()
    questions = load_patient_questions(users)
    if stdout is not None:
        stdout.write(
            f"Demo content: {studies} new studies, {articles} new articles, "
            f"{forms} new intake forms, {questions} new patient questions."
        )
    return passwords
