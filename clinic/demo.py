"""Demo data for `manage.py demo`: clinic details, the study library, articles and staff accounts.

Everything is created once: a second run finds what is there and creates nothing twice.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles import demo_content, workflow
from articles.models import Article, Status, Study, Topic

from .models import ClinicDetails

# username, first name, last name, group (None for the superuser)
DEMO_ACCOUNTS = [
    ("admin", "Clinic", "Administrator", None),
    ("author", "Sam", "Patel", "Authors"),
    ("reviewer", "Morgan", "Lee", "Medical reviewers"),
    ("clinician", "Jo", "Carter", "Clinical staff"),
]

REVIEW_INTERVAL = timedelta(days=365)


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


@transaction.atomic
def load_articles(users, now=None):
    """Create the demo articles that do not exist yet, each in the status its file names."""
    now = now or timezone.now()
    created = 0
    for record in demo_content.load_articles():
        if Article.objects.filter(slug=record["slug"]).exists():
            continue
        topic, _ = Topic.objects.get_or_create(
            slug=slugify(record["topic"]), defaults={"name": record["topic"]}
        )
        article = Article.objects.create(
            slug=record["slug"], topic=topic, author=users["author"], reviewer=users["reviewer"]
        )
        workflow.save_draft(
            article,
            title=record["title"],
            summary=record["summary"],
            body=record["body"],
            by=users["author"],
        )
        status = record["status"]
        if status == "published":
            published_at = now - timedelta(days=int(record.get("published_days_ago", 30)))
            workflow.publish(article, by=users["reviewer"], now=published_at)
            article.refresh_from_db()
            revision = article.live_revision
            revision.approved_by, revision.approved_at = users["reviewer"], published_at
            revision.approved_hash = revision.content_hash
            revision.save()
            article.last_reviewed_on = published_at.date()
            article.next_review_due_on = (published_at + REVIEW_INTERVAL).date()
            article.save()
        elif status == "in_review":
            revision = article.draft
            revision.submitted_by, revision.submitted_at = users["author"], now
            revision.save()
            article.status = Status.IN_REVIEW
            article.save()
        created += 1
    return created


def load_demo(stdout=None):
    """Load all demo content and accounts; return the accounts' passwords."""
    load_clinic_details()
    studies = load_studies()
    passwords = create_demo_accounts()
    User = get_user_model()
    users = {user.username: user for user in User.objects.filter(username__in=passwords)}
    articles = load_articles(users)
    if stdout is not None:
        stdout.write(f"Demo content: {studies} new studies, {articles} new articles.")
    return passwords
