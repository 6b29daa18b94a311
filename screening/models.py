"""The intake questionnaire (versioned data), its flag rules, and patients' submissions."""

import uuid
from datetime import timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from clinic import roles

from . import triage
from .choices import (  # noqa: F401  (re-exported: the rest of the project imports them from here)
    OUTCOME_RANK,
    AccessKind,
    Kind,
    Level,
    Operator,
    Outcome,
    PreferredContact,
    QuestionnaireStatus,
    SubmissionStatus,
    is_more_urgent,
)

CLINICAL_STAFF_GROUP = roles.CLINICAL_STAFF


class AnswerRecord(TypedDict):
    """One answer in `IntakeSubmission.answers`, with the question exactly as it was asked."""

    key: str
    section: str
    question: str
    kind: str
    options: list[tuple[str, str]]
    value: Any  # JSON: a string, a number, a list of option values or an ISO date
    display: str


YES_NO_OPTIONS = [("yes", _("Yes")), ("no", _("No"))]
SCALE_RANGE = range(0, 11)
# Which operators make sense for which kinds of question (checked in FlagRule.clean).
OPERATORS_FOR_KIND = {
    Kind.YES_NO: {Operator.IS},
    Kind.CHOICE: {Operator.IS},
    Kind.MULTI: {Operator.INCLUDES},
    Kind.SCALE: {Operator.AT_LEAST, Operator.AT_MOST},
    Kind.NUMBER: {Operator.AT_LEAST, Operator.AT_MOST},
    Kind.DATE: {Operator.AGE_UNDER, Operator.AGE_OVER},
    Kind.SHORT_TEXT: {Operator.NAMES_BLOOD_THINNER},
    Kind.LONG_TEXT: {Operator.NAMES_BLOOD_THINNER},
}


def default_blood_thinner_names():
    return triage.DEFAULT_BLOOD_THINNER_NAMES


class QuestionnaireQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=QuestionnaireStatus.ACTIVE)


class Questionnaire(models.Model):
    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=QuestionnaireStatus.choices, default=QuestionnaireStatus.DRAFT
    )
    introduction = models.TextField(
        blank=True, help_text=_("Shown to patients above the form. Plain text.")
    )
    privacy_notice = models.TextField(
        help_text=_(
            "The privacy notice patients agree to. It is versioned with the questionnaire: "
            "each submission records the version it agreed to."
        )
    )
    contact_consent_text = models.CharField(
        max_length=300,
        default="I agree that the clinic may contact me about this form using the details above.",
        help_text=_("The wording of the consent-to-contact tick box."),
    )
    blood_thinner_names = models.TextField(
        blank=True,
        default=default_blood_thinner_names,
        help_text=_(
            "Medicine names (generic and brand) that thin the blood, one per line; lines "
            'starting with # are notes. A flag rule with the test "text names a blood thinner" '
            "on a free-text question (such as the medicines list) fires when the answer names "
            "one, ignoring case, as a whole word."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        permissions = [("activate_questionnaire", "Can activate a questionnaire version")]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="questionnaire_one_active",
            ),
        ]

    def __str__(self):
        return f"{self.title} (v{self.version}, {self.get_status_display()})"

    def is_editable(self):
        return self.status == QuestionnaireStatus.DRAFT

    def activation_problems(self):
        """Reasons this version may not go live yet (an empty list when it may)."""
        problems = []
        if self.status != QuestionnaireStatus.DRAFT:
            problems.append(_("Only a draft can be activated."))
        questions = list(self.questions.all())
        if not questions:
            problems.append(_("It has no questions."))
        for question in questions:
            try:
                question.full_clean()
            except ValidationError as error:
                problems.append(f"{question.key}: {'; '.join(error.messages)}")
        for rule in self.flag_rules.all():
            try:
                rule.full_clean()
            except ValidationError as error:
                problems.append(f"{rule}: {'; '.join(error.messages)}")
            if Operator.NAMES_BLOOD_THINNER in (rule.operator, rule.also_operator) and not (
                triage.name_list(self.blood_thinner_names)
            ):
                problems.append(
                    _("%(rule)s reads blood thinner names, but the list of names is empty.")
                    % {"rule": rule}
                )
        return problems

    def activate(self, by):
        """Make this draft the one live version, retiring the previous one, atomically."""
        with transaction.atomic():
            # Lock the current active row so two clinicians activating at once serialise;
            # the partial unique constraint is the backstop.
            current = list(
                Questionnaire.objects.select_for_update().filter(status=QuestionnaireStatus.ACTIVE)
            )
            locked = Questionnaire.objects.select_for_update().get(pk=self.pk)
            self.status = locked.status
            if problems := self.activation_problems():
                raise ValidationError(problems, code="not_activatable")
            now = timezone.now()
            for old in current:
                old.status = QuestionnaireStatus.RETIRED
                old.retired_at = now
                old.save(update_fields=["status", "retired_at"])
            self.status = QuestionnaireStatus.ACTIVE
            self.activated_at = now
            self.activated_by = by
            self.save(update_fields=["status", "activated_at", "activated_by"])

    def clone_as_draft(self):
        """Copy this version, its questions and rules into a new draft with the next number."""
        with transaction.atomic():
            latest = Questionnaire.objects.select_for_update().order_by("-version").first()
            draft = Questionnaire.objects.create(
                version=latest.version + 1,
                title=self.title,
                introduction=self.introduction,
                privacy_notice=self.privacy_notice,
                contact_consent_text=self.contact_consent_text,
                blood_thinner_names=self.blood_thinner_names,
            )
            # A few statements, not one per row: a version has dozens of questions and rules.
            # A draft is not shown to patients, so no row needs its own save signal.
            questions = list(self.questions.order_by("position"))
            old_pks = [question.pk for question in questions]
            shown_if = [question.shown_if_question_id for question in questions]
            for question in questions:
                question.pk = None
                question.questionnaire = draft
                question.shown_if_question = None
            Question.objects.bulk_create(questions)
            new_by_old = dict(zip(old_pks, questions, strict=True))
            conditional = []
            for question, old_target in zip(questions, shown_if, strict=True):
                # A condition on a question of another version (moved away by hand) is not
                # copied; the draft's activation check then names the question to fix.
                if old_target in new_by_old:
                    question.shown_if_question = new_by_old[old_target]
                    conditional.append(question)
            Question.objects.bulk_update(conditional, ["shown_if_question"])
            rules = list(self.flag_rules.all())
            for rule in rules:
                rule.pk = None
                rule.questionnaire = draft
                rule.question = new_by_old[rule.question_id]
                rule.also_question = new_by_old.get(rule.also_question_id)
            FlagRule.objects.bulk_create(rules)
            return draft


class Question(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveIntegerField(help_text=_("Questions are shown in this order."))
    section = models.CharField(
        max_length=120,
        help_text=_("Section heading; consecutive questions with the same heading share it."),
    )
    key = models.SlugField(
        max_length=60,
        help_text=_(
            "A short stable name, unique within the version (used in exports as the FHIR linkId)."
        ),
    )
    text = models.CharField(max_length=300)
    help_text = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    is_required = models.BooleanField(default=True)
    options = models.TextField(
        blank=True,
        help_text=_(
            "Single and multiple choice only: one option per line, written as "
            "'value | Label' (or just the label, and the value is derived from it)."
        ),
    )
    min_value = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, help_text=_("Numbers only.")
    )
    max_value = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, help_text=_("Numbers only.")
    )
    must_be_past = models.BooleanField(
        default=False, help_text=_("Dates only: the answer must be today or earlier.")
    )
    shown_if_question = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Show this question only when this earlier question has the value below."),
    )
    shown_if_value = models.CharField(
        max_length=60,
        blank=True,
        help_text=_("The option value (or 'yes'/'no') that makes this question appear."),
    )

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "key"], name="question_unique_key_per_version"
            ),
            models.UniqueConstraint(
                fields=["questionnaire", "position"], name="question_unique_position_per_version"
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="question_kind_valid"),
        ]

    def __str__(self):
        return f"{self.key}: {self.text}"

    def clean(self):
        errors = {}
        if self.kind in (Kind.CHOICE, Kind.MULTI):
            choices = self.choices()
            if len(choices) < 2:
                errors["options"] = _("A choice question needs at least two options.")
            elif len({value for value, _label in choices}) != len(choices):
                errors["options"] = _("Two options have the same value.")
        elif self.options.strip():
            errors["options"] = _("Only choice questions have options.")
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            errors["max_value"] = _("The maximum is below the minimum.")
        if self.shown_if_question_id:
            trigger = self.shown_if_question
            if trigger.questionnaire_id != self.questionnaire_id:
                errors["shown_if_question"] = _("Pick a question from the same version.")
            elif self.position is not None and trigger.position >= self.position:
                errors["shown_if_question"] = _("The condition must be on an earlier question.")
            elif self.shown_if_value not in trigger.option_values():
                errors["shown_if_value"] = _("That is not one of the earlier question's values.")
        elif self.shown_if_value:
            errors["shown_if_question"] = _("Pick the question this condition applies to.")
        if errors:
            raise ValidationError(errors)

    def choices(self) -> list[tuple[str, str]]:
        """The (value, label) pairs a patient chooses from."""
        if self.kind == Kind.YES_NO:
            return [(value, str(label)) for value, label in YES_NO_OPTIONS]
        if self.kind == Kind.SCALE:
            return [(str(n), str(n)) for n in SCALE_RANGE]
        pairs = []
        for line in self.options.splitlines():
            if not line.strip():
                continue
            value, sep, label = line.partition("|")
            if not sep:
                value, label = slugify(line), line
            pairs.append((value.strip(), label.strip()))
        return pairs

    def option_values(self):
        return {value for value, _label in self.choices()}

    def label_for(self, value):
        return dict(self.choices()).get(str(value), str(value))


class FlagRule(models.Model):
    """An answer that matters: it raises an urgent or review flag with a patient-facing reason.

    A rule may have a second condition ("and also") that must hold as well, e.g. an age rule
    that only applies to a new episode of pain.
    """

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="flag_rules"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="flag_rules")
    operator = models.CharField(max_length=10, choices=Operator.choices, default=Operator.IS)
    value = models.CharField(
        max_length=60,
        blank=True,
        help_text=_(
            "An option value, 'yes', or a number (left empty for \"text names a blood thinner\")."
        ),
    )
    also_question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    also_operator = models.CharField(max_length=10, choices=Operator.choices, blank=True)
    also_value = models.CharField(max_length=60, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices)
    explanation = models.TextField(
        help_text=_(
            "Shown to the patient on the result page: why this answer matters, in plain words."
        )
    )

    class Meta:
        ordering = ["questionnaire", "question__position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=Level.values), name="flagrule_level_valid")
        ]

    def __str__(self):
        text = f"{self.question.key} {self.operator} {self.value}"
        if self.operator == Operator.NAMES_BLOOD_THINNER:
            text = f"{self.question.key} names a blood thinner"
        if self.also_question_id:
            text += f" and {self.also_question.key} {self.also_operator} {self.also_value}"
        return f"{text} → {self.level}"

    def clean(self):
        errors = {}
        checks = [("question", "operator", "value")]
        if self.also_question_id or self.also_operator or self.also_value:
            checks.append(("also_question", "also_operator", "also_value"))
        for question_field, operator_field, value_field in checks:
            question = getattr(self, question_field, None)
            if question is None:
                errors[question_field] = _("Pick a question.")
                continue
            if self.questionnaire_id and question.questionnaire_id != self.questionnaire_id:
                errors[question_field] = _("Pick a question from the same version.")
                continue
            operator = getattr(self, operator_field)
            value = getattr(self, value_field)
            if operator not in OPERATORS_FOR_KIND.get(question.kind, ()):
                errors[operator_field] = _("This test does not apply to a %(kind)s question.") % {
                    "kind": question.get_kind_display()
                }
            elif operator == Operator.NAMES_BLOOD_THINNER:
                if value:
                    errors[value_field] = _(
                        "Leave this empty: the names come from the version's blood thinner list."
                    )
            elif operator in (Operator.IS, Operator.INCLUDES):
                if value not in question.option_values():
                    errors[value_field] = _("That is not one of the question's values.")
            else:
                try:
                    float(value)
                except ValueError:
                    errors[value_field] = _("Enter a number.")
        if errors:
            raise ValidationError(errors)


def target_wait(outcome: str) -> timedelta:
    """How long a form with this outcome may wait for staff, from INTAKE_TARGET_HOURS."""
    return timedelta(hours=settings.INTAKE_TARGET_HOURS[outcome])


# The values `current_outcome_expression` gives each outcome (the queue's order).
CURRENT_OUTCOME_VALUE = {Outcome.URGENT: 0, Outcome.REVIEW: 1, Outcome.ROUTINE: 2}


def current_outcome_expression():
    """SQL for IntakeSubmission.current_outcome(), as its CURRENT_OUTCOME_VALUE: a more urgent
    resend counts."""
    return Case(
        *(
            When(
                Q(outcome=outcome) | Q(escalated_outcome=outcome),
                then=Value(CURRENT_OUTCOME_VALUE[outcome]),
            )
            for outcome in (Outcome.URGENT, Outcome.REVIEW)
        ),
        default=Value(CURRENT_OUTCOME_VALUE[Outcome.ROUTINE]),
        output_field=models.IntegerField(),
    )


def clinical_ordering() -> list:
    """Waiting forms first (urgent, then clinician review, then routine, each oldest first: the
    longest wait at the top), then forms already handled, newest first."""
    is_waiting = Q(status=SubmissionStatus.NEW)
    bucket = Case(
        When(is_waiting, then=current_outcome_expression()),
        default=Value(3),
        output_field=models.IntegerField(),
    )
    waiting_since = Case(When(is_waiting, then=F("submitted_at")))
    handled_at = Case(When(~is_waiting, then=F("submitted_at")))
    return [bucket.asc(), waiting_since.asc(), handled_at.desc(), "pk"]


class IntakeSubmissionQuerySet(models.QuerySet):
    def older_than(self, cutoff):
        return self.filter(submitted_at__lt=cutoff)

    def waiting(self):
        """Forms nobody has acted on yet."""
        return self.filter(status=SubmissionStatus.NEW)

    def in_clinical_order(self):
        """The intake queue: see clinical_ordering()."""
        return self.order_by(*clinical_ordering())

    def with_current_outcome(self, outcome):
        """Forms whose patient was last advised `outcome` (a more urgent resend counts)."""
        return self.alias(current_value=current_outcome_expression()).filter(
            current_value=CURRENT_OUTCOME_VALUE[outcome]
        )

    def overdue(self, now=None):
        """Waiting forms older than the clinic's target for their (current) outcome."""
        now = now or timezone.now()
        current = current_outcome_expression()
        late = Q()
        for outcome, value in CURRENT_OUTCOME_VALUE.items():
            late |= Q(urgency=value, submitted_at__lt=now - target_wait(outcome))
        return self.waiting().alias(urgency=current).filter(late)


class IntakeSubmission(models.Model):
    """One patient's answers, kept exactly as asked; only status, assignee and notes change."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.UUIDField(
        unique=True,
        editable=False,
        help_text=_("Idempotency token from the form: a resubmitted form stores nothing new."),
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="submissions"
    )
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    preferred_contact = models.CharField(max_length=10, choices=PreferredContact.choices)
    answers = models.JSONField(
        default=list,
        help_text=_("Each answer with the question exactly as it was asked."),
    )
    flags = models.JSONField(default=list, help_text=_("The flags the answers raised."))
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    consent_text = models.TextField(help_text=_("The consent statements the patient ticked."))
    consented_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_submissions",
    )
    notified_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text=_("When staff were emailed.")
    )
    notify_claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a worker took on sending the staff email (a lease, so only one sends)."),
    )
    escalated_outcome = models.CharField(
        max_length=10,
        choices=Outcome.choices,
        blank=True,
        editable=False,
        help_text=_(
            "Set when the same form was sent again with changed answers that gave a more urgent "
            "outcome: the patient was shown that advice and asked to call the clinic."
        ),
    )
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_flags = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text=_("The flags the changed answers raised."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = IntakeSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("intake submission")
        permissions = [("export_submission", "Can export submissions (CSV, FHIR)")]
        indexes = [
            # Every column of clinical_ordering(): the queue is sorted from this index alone,
            # without reading each form's answers (see QueuePaginator in screening.admin).
            models.Index(
                fields=["status", "outcome", "escalated_outcome", "submitted_at"],
                name="intakesubmission_queue",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="intakesubmission_outcome_valid"
            ),
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone=""), name="intakesubmission_has_contact"
            ),
            models.CheckConstraint(
                condition=Q(escalated_outcome__in=["", *Outcome.values]),
                name="intakesubmission_escalated_outcome_valid",
            ),
        ]

    def __str__(self):
        # No name here: this text is copied into the admin's change log, which outlives purges.
        return f"Intake #{self.pk}"

    def current_outcome(self) -> str:
        """The most urgent advice the patient has been given for this form."""
        if self.escalated_outcome and is_more_urgent(self.escalated_outcome, self.outcome):
            return self.escalated_outcome
        return self.outcome

    def is_overdue(self, now=None) -> bool:
        """Still waiting for staff, for longer than the clinic's target for its outcome."""
        if self.status != SubmissionStatus.NEW:
            return False
        return (now or timezone.now()) - self.submitted_at > target_wait(self.current_outcome())


class SubmissionNote(models.Model):
    """A staff note on a submission: added, never edited, so the record stays trustworthy."""

    submission = models.ForeignKey(IntakeSubmission, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        by = self.author.get_username() if self.author else _("automatic")
        when = timezone.localtime(self.created_at).strftime("%d/%m/%Y %H:%M")
        return f"Note on {self.submission} by {by} at {when}"


class SubmissionAccess(models.Model):
    """Who opened, exported, listed or searched submissions, and when.

    List and search views show names and contact details of many patients at once, so they are
    logged too, with the search and filters used and no submission.
    """

    submission = models.ForeignKey(
        IntakeSubmission, null=True, blank=True, on_delete=models.CASCADE, related_name="accesses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=AccessKind.choices, default=AccessKind.VIEWED)
    query = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("For list and search views: the search words and filters used."),
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("submission access")
        verbose_name_plural = _("submission access log")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[AccessKind.LISTED, AccessKind.SEARCHED])
                | Q(submission__isnull=False),
                name="submissionaccess_has_submission",
            ),
        ]

    def __str__(self):
        who = self.user.get_username() if self.user else _("a deleted user")
        what = self.submission or self.query or _("the list")
        when = timezone.localtime(self.at).strftime("%d/%m/%Y %H:%M")
        return f"{who}: {self.get_kind_display()} {what} at {when}"
