"""The public intake form, built from the active questionnaire version."""

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.input_guard import reject_unsafe_characters

from . import triage
from .models import (
    AnswerRecord,
    FlagRule,
    Kind,
    Level,
    Operator,
    PreferredContact,
    Question,
    Questionnaire,
)

SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 2000
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{7,25}$")
EARLIEST_DATE = date(1900, 1, 1)


def validate_phone(value: str) -> None:
    digits = sum(char.isdigit() for char in value)
    if not PHONE_RE.match(value) or not 7 <= digits <= 15:
        raise ValidationError(
            _("Enter a phone number using digits, like 01632 960 123 or +44 1632 960123."),
            code="invalid_phone",
        )


def field_name(question: Question) -> str:
    return f"q_{question.key}"


def json_value(kind: str, value):
    """The cleaned answer as stored in the submission's JSON."""
    if kind == Kind.NUMBER:
        return int(value) if value == value.to_integral_value() else float(value)
    if kind == Kind.DATE:
        return value.isoformat()
    return value


@dataclass
class QuestionField:
    """A question with its bound form field, for the template."""

    question: Question
    field: forms.BoundField
    trigger: Question | None
    urgent_value: str = ""

    @property
    def is_group(self) -> bool:
        return self.question.kind in (Kind.YES_NO, Kind.CHOICE, Kind.MULTI, Kind.SCALE)


class IntakeForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    # Honeypot: hidden from people (and from screen readers) by the template; bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        validators=[reject_unsafe_characters],
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        max_length=254,
        validators=[reject_unsafe_characters],
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"invalid": _("Enter an email address like name@example.com.")},
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=25,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    preferred_contact = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=PreferredContact.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how we should contact you.")},
    )
    consent_contact = forms.BooleanField(
        error_messages={"required": _("Tick the box to agree that we may contact you.")},
    )
    consent_privacy = forms.BooleanField(
        label=_("I have read the privacy notice and agree to the clinic keeping these answers."),
        error_messages={"required": _("Tick the box to agree to the privacy notice.")},
    )

    def __init__(self, *args, questionnaire: Questionnaire, questions, rules=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        self.questions = list(questions)
        # The flag rules, when the caller already has them (a copy kept for database outages).
        self.rules: list[FlagRule] | None = None if rules is None else list(rules)
        self.fields["consent_contact"].label = questionnaire.contact_consent_text
        self.fields["email"].help_text = _("Give an email address, a phone number, or both.")
        for question in self.questions:
            self.fields[field_name(question)] = self.field_for(question)
        if self.rules is None:
            rules = FlagRule.objects.filter(questionnaire=questionnaire, level=Level.URGENT)
        else:  # the kept copy: no database needed to lay out the page
            rules = [rule for rule in self.rules if rule.level == Level.URGENT]
        urgent_rules = [
            (rule.question_id, rule.operator, rule.value, rule.also_question_id) for rule in rules
        ]
        by_pk = {question.pk: question for question in self.questions}
        # Sections that hold a warning sign (an urgent rule) come first on the page, and a
        # single answer that is a warning sign by itself shows the urgent advice at once.
        self.warning_sections = {by_pk[pk].section for pk, *_rest in urgent_rules if pk in by_pk}
        self.urgent_values = {
            by_pk[pk].key: value
            for pk, operator, value, also in urgent_rules
            if pk in by_pk
            and operator == Operator.IS
            and also is None
            and by_pk[pk].kind in (Kind.YES_NO, Kind.CHOICE)
        }

    @staticmethod
    def field_for(question: Question) -> forms.Field:
        # Everything is optional at field level: clean() requires only the questions the
        # patient's own answers make applicable.
        common: dict[str, Any] = {
            "label": question.text,
            "help_text": question.help_text,
            "required": False,
        }
        match question.kind:
            case Kind.YES_NO | Kind.CHOICE:
                return forms.ChoiceField(
                    choices=question.choices(), widget=forms.RadioSelect, **common
                )
            case Kind.MULTI:
                return forms.MultipleChoiceField(
                    choices=question.choices(), widget=forms.CheckboxSelectMultiple, **common
                )
            case Kind.SCALE:
                return forms.TypedChoiceField(
                    choices=question.choices(),
                    coerce=int,
                    empty_value=None,
                    widget=forms.RadioSelect(attrs={"class": "scale"}),
                    **common,
                )
            case Kind.NUMBER:
                return forms.DecimalField(
                    min_value=question.min_value,
                    max_value=question.max_value,
                    max_digits=9,
                    decimal_places=2,
                    widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
                    **common,
                )
            case Kind.SHORT_TEXT:
                return forms.CharField(
                    max_length=SHORT_TEXT_MAX, validators=[reject_unsafe_characters], **common
                )
            case Kind.LONG_TEXT:
                return forms.CharField(
                    max_length=LONG_TEXT_MAX,
                    validators=[reject_unsafe_characters],
                    widget=forms.Textarea(attrs={"rows": 4}),
                    **common,
                )
            case Kind.DATE:
                return forms.DateField(
                    input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"],
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    error_messages={"invalid": _("Enter a real date, like 31/03/1980.")},
                    **common,
                )
        raise ValueError(f"Unknown question kind {question.kind!r}")

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version")
        if version is not None and version != self.questionnaire.version:
            raise ValidationError(
                _(
                    "The form was updated while you were filling it in. Please check your "
                    "answers below and send it again."
                ),
                code="stale_version",
            )
        known = set(self.fields)
        if unknown := sorted(k for k in self.data if k.startswith("q_") and k not in known):
            raise ValidationError(
                _("The form contained answers to questions it does not ask (%(keys)s)."),
                code="unknown_question",
                params={"keys": ", ".join(key[:40] for key in unknown[:5])},
            )
        self.clean_contact(cleaned)
        answers = self.raw_answers()
        shown = triage.visible_keys(self.questions, answers)
        for question in self.questions:
            name = field_name(question)
            if name in self.errors or question.key not in shown:
                continue
            value = cleaned.get(name)
            if question.is_required and not triage.is_answered(value):
                self.add_error(
                    name,
                    # Short: the field shows it under the question, and the summary at the top
                    # names the question beside it.
                    ValidationError(_("Answer this question."), code="required"),
                )
            elif question.kind == Kind.DATE and value:
                self.check_date(question, value)
        return cleaned

    def clean_contact(self, cleaned) -> None:
        email, phone = cleaned.get("email"), cleaned.get("phone")
        if "email" in self.errors or "phone" in self.errors:
            return
        if not email and not phone:
            self.add_error(
                "email",
                ValidationError(
                    _("Give an email address or a phone number."),
                    code="no_contact",
                ),
            )
        preferred = cleaned.get("preferred_contact")
        if preferred == PreferredContact.EMAIL and phone and not email:
            self.add_error(
                "preferred_contact",
                ValidationError(_("You chose email: give an email address."), code="no_email"),
            )
        elif preferred == PreferredContact.PHONE and email and not phone:
            self.add_error(
                "preferred_contact",
                ValidationError(_("You chose phone: give a phone number."), code="no_phone"),
            )

    def check_date(self, question: Question, value: date) -> None:
        today = timezone.localdate()
        if value < EARLIEST_DATE:
            self.add_error(
                field_name(question),
                ValidationError(_("Enter a date after 1900."), code="date_too_early"),
            )
        elif question.must_be_past and value > today:
            self.add_error(
                field_name(question),
                ValidationError(_("This date cannot be in the future."), code="date_in_future"),
            )

    def raw_answers(self) -> dict:
        return {
            question.key: self.cleaned_data.get(field_name(question)) for question in self.questions
        }

    def answers(self) -> dict:
        """Cleaned answers to the questions the patient was actually asked (after is_valid)."""
        answers = self.raw_answers()
        shown = triage.visible_keys(self.questions, answers)
        return {
            key: value
            for key, value in answers.items()
            if key in shown and triage.is_answered(value)
        }

    def answer_snapshot(self, answers: dict[str, Any]) -> list[AnswerRecord]:
        """Each answer with the question exactly as asked, for the submission record."""
        snapshot: list[AnswerRecord] = []
        for question in self.questions:
            if question.key not in answers:
                continue
            value = answers[question.key]
            if question.kind == Kind.MULTI:
                display = "; ".join(question.label_for(item) for item in value)
            elif question.kind in (Kind.YES_NO, Kind.CHOICE):
                display = question.label_for(value)
            elif question.kind == Kind.DATE:
                display = value.strftime("%d/%m/%Y")
            elif isinstance(value, Decimal):
                display = str(json_value(question.kind, value))
            else:
                display = str(value)
            snapshot.append(
                {
                    "key": question.key,
                    "section": question.section,
                    "question": question.text,
                    "kind": question.kind,
                    "options": question.choices()
                    if question.kind in (Kind.CHOICE, Kind.MULTI)
                    else [],
                    "value": json_value(question.kind, value),
                    "display": display,
                }
            )
        return snapshot

    def consent_text(self) -> str:
        return "\n".join(
            [
                str(self.questionnaire.contact_consent_text),
                str(self.fields["consent_privacy"].label),
                f"Privacy notice: questionnaire version {self.questionnaire.version}.",
            ]
        )

    def sections(self):
        """Consecutive questions grouped under their section headings, for the template."""
        by_pk = {question.pk: question for question in self.questions}
        groups: list[tuple[str, list[QuestionField]]] = []
        for question in self.questions:
            item = QuestionField(
                question,
                self[field_name(question)],
                by_pk.get(question.shown_if_question_id),
                self.urgent_values.get(question.key, ""),
            )
            if groups and groups[-1][0] == question.section:
                groups[-1][1].append(item)
            else:
                groups.append((question.section, [item]))
        return groups

    def sections_before_contact(self):
        """The warning-sign sections: asked first, so urgent advice is met first."""
        return [group for group in self.sections() if group[0] in self.warning_sections]

    def sections_after_contact(self):
        return [group for group in self.sections() if group[0] not in self.warning_sections]

    def names_in_page_order(self) -> list[str]:
        """Field names in the order the page shows them."""
        before = [i.field.name for _h, items in self.sections_before_contact() for i in items]
        after = [i.field.name for _h, items in self.sections_after_contact() for i in items]
        contact = ["full_name", "email", "phone", "preferred_contact"]
        return [*before, *contact, *after, "consent_contact", "consent_privacy"]

    def page_token(self):
        """The idempotency token to put in the page: kept across error pages, renewed if bad."""
        if not self.is_bound:
            return self.initial["token"]
        return getattr(self, "cleaned_data", {}).get("token") or uuid.uuid4()

    def error_links(self) -> list[tuple[str, str, str]]:
        """(anchor id, field label, message) for every error, in page order, for the summary at
        the top: it names each field and links to it; the field itself shows the short message.
        Errors about the whole form have no label."""
        links = [("intake-form", "", str(message)) for message in self.non_field_errors()]
        if "token" in self.errors or "version" in self.errors:
            links.append(
                (
                    "intake-form",
                    "",
                    str(
                        _(
                            "The form was damaged on its way to us. "
                            "Check your answers and send it again."
                        )
                    ),
                )
            )
        for name in self.names_in_page_order():
            if name not in self.errors:
                continue
            field = self[name]
            grouped = isinstance(
                field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple
            )
            anchor = f"{field.auto_id}_0" if grouped else field.auto_id
            links.extend((anchor, str(field.label), str(message)) for message in field.errors)
        return links
