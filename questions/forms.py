"""The patient's "Ask a question about this article" form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.input_guard import reject_unsafe_characters

QUESTION_MIN = 10
QUESTION_MAX = 1000


class AskForm(forms.Form):
    """A question, an optional name, an optional email for a private reply, and consent."""

    question = forms.CharField(
        label=_("Your question"),
        min_length=QUESTION_MIN,
        max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": QUESTION_MAX}),
        validators=[reject_unsafe_characters],
        error_messages={
            "required": _("Write your question."),
            "min_length": _("Write a little more: at least %(limit_value)d characters."),
            "max_length": _("Keep your question under %(limit_value)d characters."),
        },
        help_text=_(
            "Please do not include personal health details, your full name, date of birth or "
            "contact details in the question."
        ),
    )
    name = forms.CharField(
        label=_("First name or initials (optional)"),
        required=False,
        max_length=60,
        validators=[reject_unsafe_characters],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        help_text=_("Only our staff see it; it is never published."),
    )
    email = forms.EmailField(
        label=_("Email address (optional)"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Enter an email address like name@example.com.")},
        help_text=_(
            "Only if you would like a private reply. Only our clinical staff can see it, and "
            "we delete it when we delete old enquiries."
        ),
    )
    consent_to_publish = forms.BooleanField(
        label=_(
            "You may publish my question without my name, with any personal details removed, "
            "together with a clinician's answer under this article."
        ),
        required=False,
    )
    # The honeypot: hidden from people, filled in by bots.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("question")
            and not cleaned.get("email")
            and not cleaned.get("consent_to_publish")
        ):
            raise forms.ValidationError(
                _(
                    "We can only answer by email or by publishing the answer here: give an email "
                    "address, or agree to publish your question, or both."
                ),
                code="no_way_to_answer",
            )
        return cleaned
