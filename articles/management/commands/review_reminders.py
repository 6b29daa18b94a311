"""List published articles whose medical review is overdue or due soon, and email reviewers."""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone

from articles.models import Article


class Command(BaseCommand):
    help = (
        "List published articles whose medical review is overdue or due within --days, "
        "and email each reviewer a reminder (use --dry-run to only list)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Look this many days ahead.")
        parser.add_argument("--dry-run", action="store_true", help="List only; send no email.")

    def handle(self, *args, days, dry_run, **options):
        today = timezone.localdate()
        articles = (
            Article.objects.published()
            .filter(next_review_due_on__lte=today + timedelta(days=days))
            .select_related("live_revision", "reviewer")
            .order_by("next_review_due_on")
        )
        by_reviewer = defaultdict(list)
        for article in articles:
            state = "OVERDUE" if article.next_review_due_on < today else "due soon"
            line = f"{article.next_review_due_on}  {state:<8}  {article.live_revision.title}"
            self.stdout.write(line)
            by_reviewer[article.reviewer].append(line)
        if not by_reviewer:
            self.stdout.write("No reviews are overdue or due soon.")
            return
        if dry_run:
            return
        admin_url = settings.SITE_URL + reverse("admin:articles_article_changelist")
        sent = 0
        for reviewer, lines in by_reviewer.items():
            if reviewer is None or not reviewer.email:
                self.stderr.write(
                    f"No reviewer email for {len(lines)} article(s); assign a reviewer with an "
                    "email address."
                )
                continue
            send_mail(
                subject=f"Medical review due for {len(lines)} article(s)",
                message=(
                    "These published articles need their medical review renewed:\n\n"
                    + "\n".join(lines)
                    + f"\n\nReview them in the admin: {admin_url}?review=overdue\n"
                ),
                from_email=None,
                recipient_list=[reviewer.email],
            )
            sent += 1
        self.stdout.write(f"Sent {sent} reminder email(s).")
