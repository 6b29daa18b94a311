"""Admin forms for articles: the working text is validated by parsing its citation markers."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .body import parse
from .models import Article, ArticleRevision, Study


def citation_errors(parsed):
    """Form errors for a parsed body: malformed markers, then keys missing from the library."""
    errors = [ValidationError(error.message, code=error.code) for error in parsed.errors]
    known = set(Study.objects.filter(key__in=parsed.keys).values_list("key", flat=True))
    for key in sorted(parsed.keys - known):
        errors.append(
            ValidationError(
                _(
                    "Unknown citation key “%(key)s”: no study in the library has this key. "
                    "Check the spelling or add the study first."
                ),
                code="unknown_key",
                params={"key": key},
            )
        )
    return errors


class ArticleAdminForm(forms.ModelForm):
    """Edits an article's settings plus the text of its working revision."""

    title = forms.CharField(max_length=ArticleRevision._meta.get_field("title").max_length)
    summary = forms.CharField(
        max_length=ArticleRevision._meta.get_field("summary").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=ArticleRevision._meta.get_field("summary").help_text,
    )
    body = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 28, "class": "vLargeTextField body-editor"}),
        help_text=ArticleRevision._meta.get_field("body").help_text,
    )

    class Meta:
        model = Article
        fields = ["slug", "topic", "author", "reviewer"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision = self.instance.working_revision if self.instance.pk else None
        if revision is not None:
            for name in ("title", "summary", "body"):
                self.initial.setdefault(name, getattr(revision, name))
        self.parsed = None

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n").replace("\x00", "")
        parsed = parse(body)
        errors = citation_errors(parsed)
        if errors:
            raise ValidationError(errors)
        self.parsed = parsed
        return body
