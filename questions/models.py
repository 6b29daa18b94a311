"""Patients' questions about articles, and the clinicians' answers to them.

A question is private until staff publish an answer: it carries the patient's own words (kept
for the audit), an optional name and email (personal data, purged with intake submissions), and
the text shown in public, redacted by staff. A public answer is written like an article body and
its claims are `articles.Claim` rows (with `answer` set instead of `revision`), so it goes
through the same verdicts, certainty and gate (see `questions.answering`).
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models import Article


class QuestionStatus(models.TextChoices):
    NEW = "new", _("New")
    ANSWERED_PRIVATELY = "answered_privately", _("Answered privately")
    PUBLISHED = "published", _("Published")
    DECLINED = "declined", _("Declined")


class PatientQuestionQuerySet(models.QuerySet):
    def older_than(self, cutoff):
        return self.filter(asked_at__lt=cutoff)


class PatientQuestion(models.Model):
    """A question a patient asked about an article. Never shown in public as typed: only its
    `public_text`, once staff have removed personal details and an answer is published."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField(help_text=_("The question exactly as the patient wrote it."))
    name = models.CharField(
        max_length=60, blank=True, help_text=_("First name or initials, if the patient gave one.")
    )
    email = models.EmailField(
        blank=True, help_text=_("For a private reply only. Personal data: Clinical staff only.")
    )
    consent_to_publish = models.BooleanField(
        default=False,
        help_text=_("The patient agreed that the question may be published without their name."),
    )
    is_emergency = models.BooleanField(
        default=False,
        help_text=_("The question reads like an emergency; the patient was shown urgent advice."),
    )
    emergency_terms = models.JSONField(default=list, blank=True, editable=False)
    asked_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=20, choices=QuestionStatus.choices, default=QuestionStatus.NEW
    )
    public_text = models.TextField(
        blank=True,
        help_text=_(
            "The question as it will be published: remove names, ages, places and any other "
            "personal detail. The patient's original words are kept for the audit."
        ),
    )
    redacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    redacted_at = models.DateTimeField(null=True, blank=True)
    private_reply = models.TextField(blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reply_queued_at = models.DateTimeField(null=True, blank=True)
    reply_sent_at = models.DateTimeField(null=True, blank=True)
    reply_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PatientQuestionQuerySet.as_manager()

    class Meta:
        ordering = ["-is_emergency", "-asked_at"]
        permissions = [
            ("reply_patientquestion", "Can see patients' email addresses and reply privately"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(consent_to_publish=True),
                name="patientquestion_published_with_consent",
                violation_error_message=_("Only a question the patient agreed to publish."),
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | ~Q(public_text=""),
                name="patientquestion_published_redacted",
                violation_error_message=_("A published question needs its public text."),
            ),
        ]

    def __str__(self):
        # Never the patient's words or name: this shows in the admin's history and messages.
        return f"Question #{self.pk}"

    @property
    def excerpt(self):
        return self.text[:80] + ("…" if len(self.text) > 80 else "")


# Published and not withdrawn: the question's current answer (at most one per question).
IS_CURRENT = Q(published_at__isnull=False, retired_at__isnull=True)


class PublicAnswerQuerySet(models.QuerySet):
    def current(self):
        """Published and not withdrawn, whether or not the article is live now (an answer under
        an unpublished article comes back with it)."""
        return self.filter(IS_CURRENT)

    def live(self):
        """Answers patients can read now: current, under a published article."""
        return self.current().filter(question__article__live_revision__isnull=False)

    def live_on(self, moment):
        """Answers that were live at `moment` (for the audit dossier)."""
        return self.filter(published_at__lte=moment).exclude(retired_at__lte=moment)

    def for_page(self):
        return self.select_related(
            "question", "approved_by__reviewer_profile", "question__article"
        ).order_by("published_at", "pk")


class PublicAnswer(models.Model):
    """A clinician's answer to a question, for publication under the article. Written in the
    article Markdown with citation markers; frozen once submitted, like an article revision."""

    question = models.ForeignKey(PatientQuestion, on_delete=models.CASCADE, related_name="answers")
    body = models.TextField(
        help_text=_(
            "Markdown. Put a citation marker after each health claim: [@key]. Do not repeat "
            "personal details from the question."
        )
    )
    question_text = models.TextField(
        blank=True,
        editable=False,
        help_text=_(
            "The redacted question as submitted with this answer: reviewed and published with "
            "it, so a later change to the redaction needs a new review."
        ),
    )
    rendered_html = models.TextField(blank=True, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_hash = models.CharField(max_length=64, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the answer stopped being shown to patients.")
    )

    objects = PublicAnswerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["question"],
                condition=IS_CURRENT,
                name="publicanswer_one_live_per_question",
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(approved_at__isnull=False),
                name="publicanswer_published_after_approval",
            ),
        ]

    def __str__(self):
        return f"Answer to question #{self.question_id}"

    def get_absolute_url(self):
        """The answer under its article (the anchor of the question)."""
        return f"{self.question.article.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self):
        return f"question-{self.question_id}"

    def is_frozen(self):
        return self.submitted_at is not None

    def is_live(self):
        return self.published_at is not None and self.retired_at is None

    def state(self):
        """Where the answer stands, in words for staff."""
        if self.retired_at:
            return _("Withdrawn")
        if self.published_at:
            return _("Published")
        if self.approved_at:
            return _("Approved")
        if self.submitted_at:
            return _("In review")
        return _("Draft")

    def compute_content_hash(self):
        """SHA-256 of the public question and the answer: what a reviewer approves."""
        digest = hashlib.sha256()
        for part in (self.question_text, self.body):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return digest.hexdigest()


def published_answers():
    """Live answers with their question and article, for the article page and site search.

    Each has `.question.public_text` (the redacted question), `.body` / `.rendered_html`,
    `.question.article` and `.get_absolute_url()` (the article page with the question's anchor).
    """
    return PublicAnswer.objects.live().for_page()
