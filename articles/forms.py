"""Admin forms for articles: the working text is validated by parsing its citation markers."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .body import parse
from .diff import line_diff
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
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    class Meta:
        model = Article
        # The reviewer is never typed in: publishing records who approved the live text.
        fields = ["slug", "topic", "author"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision = self.instance.working_revision if self.instance.pk else None
        if revision is not None:
            for name in ("title", "summary", "body"):
                self.initial.setdefault(name, getattr(revision, name))
        self.initial["base_version"] = self.instance.version if self.instance.pk else 0
        self.parsed = None
        self.conflict = None

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n").replace("\x00", "")
        parsed = parse(body)
        errors = citation_errors(parsed)
        if errors:
            raise ValidationError(errors)
        self.parsed = parsed
        return body

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            self.check_not_edited_meanwhile(cleaned)
        return cleaned

    def check_not_edited_meanwhile(self, cleaned):
        """Optimistic locking: refuse a save based on a version someone else has replaced.

        The row is locked until the admin's transaction ends, so two saves cannot both pass.
        """
        current = (
            Article.objects.select_for_update(of=("self",))
            .select_related("draft", "live_revision")
            .get(pk=self.instance.pk)
        )
        if cleaned.get("base_version") == current.version:
            return
        theirs = current.working_revision
        self.conflict = {
            "diff": line_diff(theirs.body if theirs else "", cleaned.get("body", "")),
            "title_changed": theirs is not None and theirs.title != cleaned.get("title"),
        }
        # Let the next save go through: the editor has now seen the other changes.
        self.data = self.data.copy()
        self.data["base_version"] = current.version
        raise ValidationError(
            _(
                "Someone else saved this article while you were editing it. Nothing was "
                "overwritten and your text is still in the form below. Compare the changes, "
                "merge what you need, and save again."
            ),
            code="edit_conflict",
        )
