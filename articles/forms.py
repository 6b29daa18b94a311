"""Admin forms for articles: the working text is validated by parsing its citation markers."""

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from clinic.input_guard import reject_unsafe_characters

from .body import parse
from .certainty import ANY_KIND, WORDINGS, facts_of, wording_choices
from .citation_grammar import OPENING
from .diff import line_diff
from .models import (
    Article,
    ArticleRevision,
    Certainty,
    Citation,
    Claim,
    Study,
    Verdict,
)

if TYPE_CHECKING:
    # Choice labels are lazy translations; the alias exists for type checkers only.
    from django_stubs_ext import StrOrPromise


def citation_errors(parsed):
    """Form errors for a parsed body: malformed markers, then keys missing from the library,
    each with the lines it is on (in line order, like the marker errors)."""
    errors = [ValidationError(error.message, code=error.code) for error in parsed.errors]
    known = set(Study.objects.filter(key__in=parsed.keys).values_list("key", flat=True))
    lines: dict[str, list[int]] = {}
    for claim in parsed.claims:
        for key in claim.keys:
            if key not in known and claim.line not in lines.setdefault(key, []):
                lines[key].append(claim.line)
    for key, on in sorted(lines.items(), key=lambda item: (item[1][0], item[0])):
        errors.append(
            ValidationError(
                _(
                    "%(where)s: unknown citation key “%(key)s”: no study in the library has "
                    "this key. Check the spelling or add the study first."
                ),
                code="unknown_key",
                params={"key": key, "where": line_label(on)},
            )
        )
    return errors


def refuse_markers(text: str, where: str) -> str:
    """Titles and summaries are shown as plain text, so a citation marker there would reach
    patients as bracket text that only looks like a reference: refuse it."""
    if OPENING.search(text):
        raise ValidationError(
            _(
                "Citation markers work only in the body; the %(where)s is shown as plain text. "
                "Move the claim and its marker into the body, or reword the %(where)s."
            )
            % {"where": where},
            code="marker_outside_body",
        )
    return text


def line_label(lines: list[int]) -> str:
    """ "Line 3", or "Lines 3, 8 and 12", as the body's own errors name lines."""
    if len(lines) == 1:
        return _("Line %(n)s") % {"n": lines[0]}
    return _("Lines %(first)s and %(last)s") % {
        "first": ", ".join(str(n) for n in lines[:-1]),
        "last": lines[-1],
    }


class BodyEditor(forms.Textarea):
    """The body's textarea followed by a study-key finder: a `<datalist>` of the library's
    keys, which works without JavaScript and which static/js/study-keys.js reads to suggest
    keys as an author types a marker."""

    def __init__(self, *args, study_keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.study_keys = study_keys

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        field_id = (attrs or {}).get("id") or f"id_{name}"
        finder = render_to_string(
            "admin/articles/_study_key_finder.html",
            {"field_id": field_id, "study_keys": self.study_keys},
        )
        return textarea + finder


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
        widget=BodyEditor(attrs={"rows": 28, "class": "vLargeTextField body-editor"}),
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
        # Evaluated only when the form is rendered.
        self.fields["body"].widget.study_keys = Study.objects.only("key", "title")
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _(
                "The page's address: /articles/<slug>/. Left empty, it is made from the title."
            )
        self.parsed = None
        self.conflict = None

    def clean_title(self):
        return refuse_markers(self.cleaned_data["title"], _("title"))

    def clean_summary(self):
        return refuse_markers(self.cleaned_data["summary"], _("summary"))

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
        if "slug" in self.fields and not cleaned.get("slug") and cleaned.get("title"):
            cleaned["slug"] = Article.objects.free_slug(cleaned["title"], exclude=self.instance)
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


# The review screen ------------------------------------------------------------------------


def require_row_in_review(form):
    """A posted row id outside the formset's queryset (another article's citation, a stale
    page) is refused: model formsets would otherwise treat it as a new row."""
    if form.instance.pk is None:
        raise ValidationError(
            _("The form names a row that is not in the revision under review. Reload the page."),
            code="not_in_revision",
        )


class CitationReviewForm(forms.ModelForm):
    """A reviewer's verdict on one citation, with the note a verdict other than "supports"
    needs. The workflow re-checks every rule when the verdict is recorded."""

    class Meta:
        model = Citation
        fields = ["verdict", "verdict_note"]
        widgets = {"verdict_note": forms.Textarea(attrs={"rows": 2, "cols": 60})}
        error_messages = {
            "verdict": {"invalid_choice": _("“%(value)s” is not a verdict.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The project's one guard for NUL, surrogates and bad bytes, with its clear message.
        self.fields["verdict_note"].validators.append(reject_unsafe_characters)
        citation = self.instance
        if citation.pk is None:
            self.subject = _("A citation")
            return
        self.subject = f"Claim {citation.claim.ordinal} → {citation.study.key}"
        self.fields["verdict"].label = _("Verdict on claim %(n)s and %(key)s") % {
            "n": citation.claim.ordinal,
            "key": citation.study.key,
        }
        self.fields["verdict"].choices = [("", _("Not reviewed yet")), *Verdict.choices]
        self.fields["verdict_note"].label = _("Note (required unless it supports the claim)")

    def clean(self):
        cleaned = super().clean()
        require_row_in_review(self)
        verdict = cleaned.get("verdict", "")
        note = cleaned.get("verdict_note", "").strip()
        cleaned["verdict_note"] = note
        if "verdict" not in cleaned:
            return cleaned  # already an invalid choice
        if not verdict and self.instance.verdict:
            self.add_error(
                "verdict",
                ValidationError(_("A recorded verdict cannot be cleared."), code="verdict_cleared"),
            )
        elif not verdict and note:
            self.add_error(
                "verdict",
                ValidationError(_("Choose a verdict for your note."), code="note_without_verdict"),
            )
        elif verdict and verdict != Verdict.SUPPORTS and not note:
            self.add_error(
                "verdict_note",
                ValidationError(
                    _("Say in a note why the study does not fully support the claim."),
                    code="note_required",
                ),
            )
        return cleaned

    def has_review_change(self):
        """Whether saving would record something new (re-saving keeps who and when)."""
        verdict = self.cleaned_data.get("verdict", "")
        note = self.cleaned_data.get("verdict_note", "")
        return bool(verdict) and (verdict, note) != (
            self.initial["verdict"],
            self.initial["verdict_note"],
        )


class ClaimReviewForm(forms.ModelForm):
    """A claim's GRADE certainty and the plain words patients see beside it: one of a short
    list, or the reviewer's own words, which win when given."""

    wording = forms.ChoiceField(label=_("Wording patients see"), required=False)
    wording_text = forms.CharField(
        label=_("Or in your own words (used instead of the list)"),
        required=False,
        max_length=Claim._meta.get_field("certainty_wording").max_length,
        validators=[reject_unsafe_characters],
        widget=forms.TextInput(attrs={"size": 50}),
    )

    class Meta:
        model = Claim
        fields = ["kind", "certainty"]
        error_messages = {
            "certainty": {"invalid_choice": _("“%(value)s” is not a GRADE certainty.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        claim = self.instance
        self.subject = f"Claim {claim.ordinal}" if claim.pk else _("A claim")
        certainties, wordings = self.certainty_choices_for(claim)
        self.fields["certainty"].label = _("Certainty of the evidence for claim %(n)s (GRADE)") % {
            "n": claim.ordinal
        }
        self.fields["certainty"].choices = [("", _("Not rated yet")), *certainties]
        self.fields["kind"].label = _("What claim %(n)s is about") % {"n": claim.ordinal}
        self.fields["wording"].choices = [
            ("", _("None, or my own words below")),
            *((wording, wording) for wording in wordings),
        ]
        self.fields["wording"].error_messages["invalid_choice"] = _(
            "“%(value)s” is not one of the wordings."
        )
        saved = claim.certainty_wording
        self.initial["wording"] = saved if saved in wordings else ""
        self.initial["wording_text"] = "" if saved in wordings else saved

    def certainty_choices_for(
        self, claim: Claim
    ) -> tuple[list[tuple[str, "StrOrPromise"]], list[str]]:
        """The GRADE ratings and patient wordings a reviewer may pick for `claim`: the one
        place the screen's choices come from. Only wordings that fit the cited studies are
        offered (`articles.certainty`); those that also need a kind are checked on save."""
        if not claim.pk:
            return list(Certainty.choices), []
        facts = facts_of([citation.study for citation in claim.citations.all()])
        fitting = {text for kind in ANY_KIND for text, _label in wording_choices(facts, kind)}
        return list(Certainty.choices), [w.text for w in WORDINGS if w.text in fitting]

    def clean(self):
        cleaned = super().clean()
        require_row_in_review(self)
        cleaned["certainty_wording"] = cleaned.get("wording_text", "").strip() or cleaned.get(
            "wording", ""
        )
        if cleaned["certainty_wording"] and not cleaned.get("certainty") and "certainty" in cleaned:
            self.add_error(
                "certainty",
                ValidationError(
                    _("Choose a certainty for the wording."), code="wording_without_certainty"
                ),
            )
        return cleaned

    def has_review_change(self):
        values = (
            self.cleaned_data.get("kind", ""),
            self.cleaned_data.get("certainty", ""),
            self.cleaned_data["certainty_wording"],
        )
        saved = self.initial["wording_text"] or self.initial["wording"]
        return values != (self.initial.get("kind", ""), self.initial.get("certainty", ""), saved)


CitationReviewFormSet = forms.modelformset_factory(
    Citation, form=CitationReviewForm, extra=0, edit_only=True
)
ClaimReviewFormSet = forms.modelformset_factory(
    Claim, form=ClaimReviewForm, extra=0, edit_only=True
)
