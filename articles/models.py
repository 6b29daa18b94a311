"""The study library, articles, their revisions, claims and the citations table."""

import hashlib
import re
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .certainty import WORDINGS, facts_of, wording_problem

if TYPE_CHECKING:
    from .forms import CitationReviewForm, ClaimReviewForm
    from .freshness import Hint


class StudyType(models.TextChoices):
    """Kinds of evidence, strongest first (the order the evidence summary uses)."""

    GUIDELINE = "guideline", _("Clinical practice guideline")
    SYSTEMATIC_REVIEW = "systematic_review", _("Systematic review or meta-analysis")
    RCT = "rct", _("Randomised controlled trial")
    COHORT = "cohort", _("Cohort or observational study")
    CASE_SERIES = "case_series", _("Case series, case report or survey")
    AGENCY = "agency", _("Health agency statement")
    EXPERT_OPINION = "expert_opinion", _("Expert opinion or narrative review")


# Study types a patient-facing summary counts as "weaker sources".
WEAKER_STUDY_TYPES = frozenset(
    {StudyType.COHORT, StudyType.CASE_SERIES, StudyType.AGENCY, StudyType.EXPERT_OPINION}
)


class StatedGrade(models.TextChoices):
    """The GRADE rating a systematic review or guideline gives its own evidence."""

    HIGH = "high", _("High")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")
    VERY_LOW = "very_low", _("Very low")


# Study types that can state a GRADE rating of their own evidence.
GRADED_STUDY_TYPES = frozenset({StudyType.GUIDELINE, StudyType.SYSTEMATIC_REVIEW})

# What patients read about a study in an article's references and on /evidence/<key>/: once
# a submitted revision cites the study, changes to these go through a reviewer.
BIBLIOGRAPHIC_FIELDS = (
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "url",
)
REVIEWED_STUDY_FIELDS = (
    *BIBLIOGRAPHIC_FIELDS,
    "study_type",
    "finding",
    "sample_size",
    "participants",
    "sham_controlled",
    "stated_grade",
    "is_retracted",
    "retraction_note",
)


class Topic(models.Model):
    """A subject patients can filter articles by."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StudyQuerySet(models.QuerySet):
    def described(self):
        """Studies a reviewer has given a type and a plain-language finding: the ones patients
        see in the library (an imported study waits until then)."""
        return self.exclude(study_type="").exclude(finding="")


class Study(models.Model):
    """A publication that article claims cite, with a plain-language account of what it found."""

    key = models.SlugField(
        max_length=80,
        unique=True,
        help_text=_("Short citation key used in article bodies as [@key], e.g. cherkin2009."),
    )
    authors = models.CharField(
        max_length=500, help_text=_("As in the publication, e.g. 'Cherkin DC, Sherman KJ, et al.'")
    )
    title = models.CharField(max_length=500)
    journal = models.CharField(
        max_length=300, blank=True, help_text=_("Journal, or publisher for guidelines.")
    )
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Leave empty for undated web pages such as fact sheets.")
    )
    volume = models.CharField(max_length=20, blank=True)
    issue = models.CharField(max_length=20, blank=True)
    pages = models.CharField(max_length=40, blank=True)
    doi = models.CharField(
        "DOI",
        max_length=200,
        blank=True,
        help_text=_("Without the https://doi.org/ prefix. Leave empty if not confirmed."),
    )
    pmid = models.CharField(
        "PMID",
        max_length=12,
        blank=True,
        help_text=_("PubMed identifier (digits only). Leave empty if not confirmed."),
    )
    url = models.URLField("URL", max_length=500, blank=True)
    study_type = models.CharField(
        max_length=30,
        choices=StudyType.choices,
        blank=True,
        help_text=_("Set by a reviewer; an imported study has none until then."),
    )
    suggested_study_type = models.CharField(
        max_length=30,
        choices=StudyType.choices,
        blank=True,
        editable=False,
        help_text=_("What the source's publication types suggest; a reviewer confirms it."),
    )
    publication_types = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text=_("Publication types as the source (PubMed) lists them."),
    )
    included_studies = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="included_in_reviews",
        help_text=_(
            "For a systematic review: the studies in this library that it pools, as stated in "
            "its list of included studies. Used only for freshness hints on the review screen."
        ),
    )
    sample_size = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Who took part, in words, e.g. '638 adults; 10 sessions over 7 weeks'."),
    )
    participants = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "How many people took part (all trials together for a review). Leave empty when "
            "unknown or not a count of people, e.g. a guideline or a count of treatments."
        ),
    )
    sham_controlled = models.BooleanField(
        null=True,
        blank=True,
        help_text=_(
            "Did the study (or the trials it pooled) compare the real treatment with a sham? "
            "Leave unknown when it does not say."
        ),
    )
    stated_grade = models.CharField(
        "stated GRADE rating",
        max_length=10,
        choices=StatedGrade.choices,
        blank=True,
        help_text=_(
            "For a systematic review or guideline: the GRADE certainty it gives its own "
            "evidence for the main question. Empty when it states none."
        ),
    )
    finding = models.TextField(
        blank=True,
        help_text=_(
            "What the study actually found, in plain words a patient can follow. A study "
            "without one cannot support a claim."
        ),
    )
    is_retracted = models.BooleanField(
        "retracted",
        default=False,
        help_text=_("A retracted study cannot support a claim: articles citing it cannot publish."),
    )
    retraction_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        verbose_name_plural = _("studies")
        permissions = [
            (
                "verify_study",
                "Can change a study's type, plain-language finding and retraction status",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("doi"),
                condition=~Q(doi=""),
                name="study_unique_doi",
                violation_error_message=_("A study with this DOI is already in the library."),
            ),
            models.UniqueConstraint(
                fields=["pmid"],
                condition=~Q(pmid=""),
                name="study_unique_pmid",
                violation_error_message=_("A study with this PMID is already in the library."),
            ),
            models.CheckConstraint(
                condition=Q(pmid="") | Q(pmid__regex=r"^[0-9]+$"),
                name="study_pmid_digits",
                violation_error_message=_("A PMID is digits only, e.g. 19433697."),
            ),
        ]

    def __str__(self):
        return self.key

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:study_detail", args=[self.key])

    def clean(self):
        # Normalise before constraints are validated, so "https://doi.org/X" matches "x".
        self.doi = normalise_doi(self.doi)
        self.pmid = normalise_pmid(self.pmid)
        if self.stated_grade and self.study_type not in GRADED_STUDY_TYPES:
            raise ValidationError(
                {
                    "stated_grade": ValidationError(
                        _(
                            "Only a systematic review or a guideline states a GRADE rating of "
                            "its own; leave this empty for other kinds of study."
                        ),
                        code="grade_needs_review",
                    )
                }
            )
        if self.pk is not None:
            stored_key = Study.objects.filter(pk=self.pk).values_list("key", flat=True).first()
            if stored_key is not None and stored_key != self.key and self.is_cited():
                raise ValidationError(
                    {
                        "key": ValidationError(
                            _(
                                "The key “%(key)s” cannot change: a submitted article revision "
                                "cites it, and patients' links to /evidence/%(key)s/ must keep "
                                "working."
                            ),
                            code="key_fixed",
                            params={"key": stored_key},
                        )
                    }
                )

    def is_cited(self):
        """True once any submitted revision cites this study: from then on its key is fixed
        and changes to what patients read about it go through a reviewer."""
        return (
            self.pk is not None
            and Citation.objects.filter(study_id=self.pk)
            .filter(
                Q(claim__revision__submitted_at__isnull=False)
                | Q(claim__answer__submitted_at__isnull=False)
            )
            .exists()
        )

    def is_described(self):
        """True when a reviewer has set its type and finding, so it may support claims."""
        return bool(self.study_type and self.finding)

    def reviewed_values(self):
        """The fields a reviewer vouches for, as a dict (what a StudyChange proposes)."""
        return {name: getattr(self, name) for name in REVIEWED_STUDY_FIELDS}

    @property
    def doi_url(self):
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self):
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    def ama_citation(self):
        """The reference in AMA style (without the DOI/PMID links, which templates add)."""
        parts = [f"{self.authors.rstrip('.')}. {self.title.rstrip('.')}."]
        year = self.year or "n.d"
        if self.journal:
            source = f"{self.journal}. {year}"
            if self.volume:
                source += f";{self.volume}"
                if self.issue:
                    source += f"({self.issue})"
            if self.pages:
                source += f":{self.pages}"
            parts.append(source + ".")
        else:
            parts.append(f"{year}.")
        return " ".join(parts)


# A DOI inside whatever wraps it: a resolver address (doi.org, dx.doi.org, www.doi.org), a
# "doi:" or "DOI " label, percent-encoding, or a full stop after it in running text.
DOI_START = r"10\.\d{4,9}/"  # the directory indicator and registrant code, then the suffix
DOI_IN_TEXT = re.compile(DOI_START + r"\S+")
PMID_IN_TEXT = re.compile(r"^(?:pmid:?\s*)?0*(\d{1,9})(?:\.0+)?$", re.IGNORECASE)


def normalise_doi(value):
    """The bare DOI (`10.xxxx/…`) from any way it is written, so one DOI is stored one way;
    text without a DOI comes back stripped, for validation to report."""
    value = unquote((value or "").strip())
    found = DOI_IN_TEXT.search(value)
    if found is None:
        return value
    doi = found.group(0).rstrip(".,;")
    # A closing bracket belongs to the DOI only when it closes one opened inside it.
    while doi.endswith(")") and doi.count(")") > doi.count("("):
        doi = doi[:-1].rstrip(".,;")
    return doi


def normalise_pmid(value):
    """A PubMed ID's digits from "12345678", "PMID: 12345678" or a spreadsheet's "12345678.0";
    anything else comes back stripped, for validation to report."""
    value = (value or "").strip()
    found = PMID_IN_TEXT.match(value)
    return found.group(1) if found else value


class Status(models.TextChoices):
    """Where an article's working draft is in the editorial workflow."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    UNPUBLISHED = "unpublished", _("Unpublished")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """Articles patients can read: those with a live revision."""
        return self.filter(live_revision__isnull=False)

    def review_due_now(self):
        """Published articles flagged for review since their live text was approved, e.g.
        because a study they cite was changed or retracted."""
        flags = ReviewFlag.objects.with_open().filter(
            article=OuterRef("pk"), answer__isnull=True, still_open=True
        )
        return self.published().filter(Exists(flags))

    def free_slug(self, title, *, exclude=None):
        """A slug made from `title` that no other article uses: "back-pain", else
        "back-pain-2", "back-pain-3"... (the unique constraint still has the last word)."""
        max_length = Article._meta.get_field("slug").max_length
        base = slugify(title)[:max_length].strip("-") or "article"
        others = self.exclude(pk=exclude.pk) if exclude is not None and exclude.pk else self
        taken = set(
            others.filter(slug__startswith=base[: max_length - 6]).values_list("slug", flat=True)
        )
        slug, number = base, 2
        while slug in taken:
            suffix = f"-{number}"
            slug = base[: max_length - len(suffix)].rstrip("-") + suffix
            number += 1
        return slug

    def with_live_content(self):
        return self.select_related(
            "live_revision", "topic", "author", "reviewer", "reviewer__reviewer_profile"
        )


class Article(models.Model):
    """A patient article. Its text lives in revisions: `draft` is being edited, `live_revision`
    is what patients see, so editing a published article never changes the public page."""

    slug = models.SlugField(max_length=120, unique=True)
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, null=True, blank=True, related_name="articles"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_articles"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_articles",
        help_text=_("The clinician who reviews the claims in this article."),
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    draft = models.OneToOneField(
        "ArticleRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The working revision, if one is open."),
    )
    live_revision = models.OneToOneField(
        "ArticleRevision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The approved revision patients see."),
    )
    first_published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("Bumped on every edit, to detect concurrent edits.")
    )
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-first_published_at", "-created_at"]
        permissions = [
            ("submit_article", "Can submit articles for review"),
            ("review_article", "Can record claim verdicts and request changes"),
            ("approve_article", "Can approve reviewed articles"),
            ("publish_article", "Can publish and unpublish articles"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:detail", args=[self.slug])

    @property
    def working_revision(self):
        """The revision staff edit: the open draft, else the live one."""
        return self.draft or self.live_revision

    @property
    def title(self):
        revision = self.working_revision
        return revision.title if revision else self.slug

    def is_published(self):
        return self.live_revision_id is not None

    def is_review_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.next_review_due_on is not None and self.next_review_due_on < today


class ArticleRevision(models.Model):
    """One version of an article's text with its claims. Editable only until submitted;
    from then on it is an immutable record identified by its content hash."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(
        max_length=400, help_text=_("One or two plain sentences shown in lists and search results.")
    )
    body = models.TextField(
        help_text=_(
            "Markdown. Put a citation marker after each health claim: [@key], "
            "[@key1; @key2], or with a locator [@key, table 2]."
        )
    )
    rendered_html = models.TextField(
        blank=True, editable=False, help_text=_("Sanitised HTML rendered from the body.")
    )
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_hash = models.CharField(
        max_length=64, blank=True, help_text=_("Content hash of exactly what was approved.")
    )
    next_review_due_on = models.DateField(
        null=True,
        blank=True,
        help_text=_("Set at approval: when this text must be reviewed again."),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When this revision stopped being the live one.")
    )

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique_number"),
        ]

    def __str__(self):
        return f"{self.article.slug} r{self.number}"

    def is_frozen(self):
        """A submitted revision is a record: its text and claims never change again."""
        return self.submitted_at is not None

    def compute_content_hash(self):
        digest = hashlib.sha256()
        for part in (self.title, self.summary, self.body):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return digest.hexdigest()


class Certainty(models.TextChoices):
    """GRADE certainty of the evidence behind a claim."""

    HIGH = "high", _("High certainty")
    MODERATE = "moderate", _("Moderate certainty")
    LOW = "low", _("Low certainty")
    VERY_LOW = "very_low", _("Very low certainty")


class ClaimKind(models.TextChoices):
    """What a claim is about, chosen by the reviewer: it decides which wordings fit."""

    EFFECT = "effect", _("Effect of a treatment")
    SAFETY = "safety", _("Safety, harms or side effects")
    OTHER = "other", _("Other (how common, what guidance says, costs, how care works)")


class Claim(models.Model):
    """A health claim: the text up to a citation marker, in an article revision's body or in
    a public answer to a patient's question (exactly one of the two), so both go through the
    same verdicts, certainty and gate."""

    revision = models.ForeignKey(
        ArticleRevision, on_delete=models.CASCADE, null=True, blank=True, related_name="claims"
    )
    answer = models.ForeignKey(
        "questions.PublicAnswer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="claims",
        help_text=_("Set instead of the revision for a claim in a public answer."),
    )
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    text_hash = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(
        max_length=10,
        choices=ClaimKind.choices,
        blank=True,
        help_text=_("What the claim is about; wordings about benefit or harms need it."),
    )
    certainty = models.CharField(max_length=10, choices=Certainty.choices, blank=True)
    certainty_wording = models.CharField(
        max_length=200,
        blank=True,
        help_text=_(
            "Plain words patients see beside the reference, e.g. 'short-term relief only'."
        ),
    )

    # Display-only attributes, never stored: set on instances shown on the review screen
    # (`ReviewForms.attach`) and the change page (`admin.attach_reviewer_notes`).
    review_form: "ClaimReviewForm | None"
    review_notes: "list[Citation]"

    class Meta:
        ordering = ["revision", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "ordinal"], name="claim_unique_ordinal"),
            models.UniqueConstraint(
                fields=["answer", "ordinal"],
                condition=Q(answer__isnull=False),
                name="claim_unique_answer_ordinal",
            ),
            models.CheckConstraint(
                condition=Q(revision__isnull=False, answer__isnull=True)
                | Q(revision__isnull=True, answer__isnull=False),
                name="claim_in_revision_or_answer",
                violation_error_message=_("A claim belongs to a revision or an answer."),
            ),
        ]

    def __str__(self):
        return self.text[:80]

    def save(self, *args, **kwargs):
        self.text_hash = claim_text_hash(self.text)
        super().save(*args, **kwargs)

    def clean(self):
        """The patient wording must fit the claim and the studies it cites
        (see `articles.certainty`)."""
        if not self.certainty_wording or self.pk is None:
            return
        studies = [citation.study for citation in self.citations.select_related("study")]
        problem = wording_problem(self.certainty_wording, facts_of(studies), self.kind)
        if problem:
            raise ValidationError(
                {"certainty_wording": ValidationError(problem, code="wording_unfit")}
            )


def claim_text_hash(text):
    """Hash of a claim's wording, ignoring spacing and case, to recognise an unchanged claim."""
    normalised = " ".join(text.split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


class Verdict(models.TextChoices):
    SUPPORTS = "supports", _("Supports the claim")
    OVERSTATED = "overstated", _("Claim overstates the study")
    DOES_NOT_SUPPORT = "does_not_support", _("Does not support the claim")


class CitationQuerySet(models.QuerySet):
    def record_studies_as_reviewed(self):
        """Copy each cited study's reference, type and finding onto these citations (done at
        submission), so later library edits cannot rewrite what was reviewed."""
        citations = list(self.select_related("study"))
        for citation in citations:
            snapshot = study_snapshot(citation.study)
            citation.study_type_as_reviewed = snapshot.pop("study_type")
            citation.finding_as_reviewed = snapshot.pop("finding")
            citation.bibliography_as_reviewed = snapshot
        self.model.objects.bulk_update(
            citations,
            ["study_type_as_reviewed", "finding_as_reviewed", "bibliography_as_reviewed"],
            batch_size=500,
        )
        return len(citations)


class Citation(models.Model):
    """The citations table: one study cited by one claim, with the reviewer's verdict."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="citations")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="citations")
    position = models.PositiveSmallIntegerField(default=0)
    locator = models.CharField(max_length=100, blank=True, help_text=_("e.g. 'table 2', 'p. 861'"))
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    verdict_note = models.TextField(blank=True)
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verdict_at = models.DateTimeField(null=True, blank=True)
    # What the library said about the study when the revision was submitted, kept for audits.
    study_type_as_reviewed = models.CharField(
        max_length=30, choices=StudyType.choices, blank=True, editable=False
    )
    finding_as_reviewed = models.TextField(blank=True, editable=False)
    # The study's reference as patients read it when the revision was submitted (authors,
    # title, journal, year, volume, issue, pages, DOI, PMID, URL, sample size): live pages
    # render this, so a later library edit never changes reviewed text.
    bibliography_as_reviewed = models.JSONField(default=dict, blank=True, editable=False)

    objects = CitationQuerySet.as_manager()

    # Display-only attributes, never stored: set on citations shown on the review screen.
    review_form: "CitationReviewForm | None"
    freshness_hints: "list[Hint]"

    class Meta:
        ordering = ["claim", "position"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "position"], name="citation_unique_position"),
        ]

    def __str__(self):
        return f"{self.claim_id} → {self.study_id}"

    def study_as_reviewed(self):
        """The study as the reviewer saw it (an unsaved copy built from the snapshot), with
        today's retraction status, which patients must always see. Before submission there
        is no snapshot and the library's current entry is used."""
        study = self.study
        if not self.bibliography_as_reviewed:
            return study
        copy = Study(
            pk=study.pk,
            key=self.bibliography_as_reviewed.get("key", study.key),
            study_type=self.study_type_as_reviewed or study.study_type,
            finding=self.finding_as_reviewed or study.finding,
            is_retracted=study.is_retracted,
            retraction_note=study.retraction_note,
        )
        for name in (*BIBLIOGRAPHIC_FIELDS, "sample_size"):
            setattr(copy, name, self.bibliography_as_reviewed.get(name, getattr(study, name)))
        return copy

    def study_changed_since_review(self):
        """True when the library's entry differs from what the reviewer saw."""
        if not self.bibliography_as_reviewed:
            return False
        return study_snapshot(self.study) != {
            **self.bibliography_as_reviewed,
            "study_type": self.study_type_as_reviewed,
            "finding": self.finding_as_reviewed,
        }


def study_snapshot(study):
    """What a citation records about its study at submission."""
    return {
        "key": study.key,
        **{name: getattr(study, name) for name in (*BIBLIOGRAPHIC_FIELDS, "sample_size")},
        "study_type": study.study_type,
        "finding": study.finding,
    }


# Plain wordings a reviewer can pick to explain a claim's certainty to patients; which of them
# fit a given claim is decided by `articles.certainty`.
CERTAINTY_WORDINGS = [wording.text for wording in WORDINGS]


class ReviewerProfile(models.Model):
    """A medical reviewer's credentials as shown to patients and checked before approval."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile"
    )
    display_name = models.CharField(
        max_length=200, help_text=_("Name as shown to patients, e.g. 'Dr Morgan Lee'.")
    )
    qualification = models.CharField(
        max_length=200, help_text=_("e.g. 'MBBS, MSc; GP with a special interest in back pain'.")
    )
    registration_body = models.CharField(
        max_length=200, help_text=_("e.g. 'General Medical Council'.")
    )
    registration_number = models.CharField(max_length=50)
    verified_on = models.DateField(
        help_text=_(
            "When the registration was last checked. Approval needs a check in the last 12 months."
        )
    )
    declared_interests = models.TextField(
        blank=True,
        help_text=_("Financial or professional interests. Write 'None declared' if none."),
    )
    biography = models.TextField(blank=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("articles:reviewer_detail", args=[self.pk])

    def is_verification_current(self, today=None):
        """True when the registration was verified in the last 12 months."""
        today = today or timezone.localdate()
        return self.verified_on > today - VERIFICATION_VALID_FOR


VERIFICATION_VALID_FOR = timedelta(days=365)


class ReviewComment(models.Model):
    """A reviewer's comment on an article as a whole, shown to the author."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    revision = models.ForeignKey(ArticleRevision, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.body[:60]


class LintDismissal(models.Model):
    """A reviewer's record that a linter warning is not a health claim."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="lint_dismissals")
    revision = models.ForeignKey(
        ArticleRevision,
        on_delete=models.CASCADE,
        related_name="lint_dismissals",
        help_text=_("The revision under review when the warning was dismissed."),
    )
    fingerprint = models.CharField(max_length=64)
    sentence = models.TextField()
    reason = models.CharField(max_length=300, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["dismissed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "fingerprint"], name="lintdismissal_unique_sentence"
            ),
        ]

    def __str__(self):
        return self.sentence[:60]


class StudyChangeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a reviewer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class StudyChangeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=StudyChangeStatus.PENDING)


class StudyChange(models.Model):
    """A proposed change to a study that submitted revisions cite. It changes nothing until a
    medical reviewer accepts it; then it applies to the library and the live articles citing
    the study are flagged for review (see `articles.study_changes`)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="changes")
    previous = models.JSONField(
        help_text=_("The reviewed fields as they stood when the change was proposed.")
    )
    proposed = models.JSONField(help_text=_("Only the fields the change alters, new values."))
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=StudyChangeStatus.choices, default=StudyChangeStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    objects = StudyChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=StudyChangeStatus.PENDING)
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="studychange_decision_recorded",
                violation_error_message=_("A decided change records who decided and when."),
            ),
        ]

    def __str__(self):
        return f"{self.study.key}: {', '.join(sorted(self.proposed))}"

    def is_pending(self):
        return self.status == StudyChangeStatus.PENDING

    def changed_fields(self):
        """(field label, before, after) for each proposed field, for people to read."""
        rows = []
        for name, value in self.proposed.items():
            label = Study._meta.get_field(name).verbose_name
            rows.append((label, self.previous.get(name), value))
        return rows


class ReviewFlagReason(models.TextChoices):
    STUDY_CHANGED = "study_changed", _("A cited study was changed")
    STUDY_RETRACTED = "study_retracted", _("A cited study was retracted")
    STUDY_CORRECTED = "study_corrected", _("A cited study was corrected")
    STUDY_CONCERN = "study_concern", _("An expression of concern about a cited study")
    STUDY_REINSTATED = "study_reinstated", _("A cited study was reinstated")
    OTHER = "other", _("Other")


class ReviewFlagQuerySet(models.QuerySet):
    def with_open(self):
        """Annotate `still_open`, the one definition of an open flag.

        An article's flag is open while its live revision was approved before the flag was
        raised. A flag on an answer is open while the question's published, not withdrawn
        answer was approved before it (whether or not the article is live now: the answer
        comes back with it).
        """
        answers = self.model._meta.get_field("answer").related_model
        answer_approved_before = answers.objects.current().filter(
            question=OuterRef("answer__question"), approved_at__lt=OuterRef("raised_at")
        )
        revision_approved_before = Q(article__live_revision__approved_at__isnull=True) | Q(
            article__live_revision__approved_at__lt=F("raised_at")
        )
        return self.annotate(
            still_open=Case(
                When(answer__isnull=False, then=Exists(answer_approved_before)),
                When(
                    Q(article__live_revision__isnull=False) & revision_approved_before,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=models.BooleanField(),
            )
        )


class ReviewFlag(models.Model):
    """A reason a published article, or a patient answer published under it, must be reviewed
    again now.

    Publishing a revision approved after the flag resolves an article's flag; publishing an
    answer to the question approved after it, or withdrawing the answer, resolves a flag on an
    answer (`answer` set). See `ReviewFlagQuerySet.with_open`. Only the article's own flags
    make the article due for review.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_flags")
    answer = models.ForeignKey(
        "questions.PublicAnswer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_flags",
        help_text=_("Set when the flag is about a patient answer published under the article."),
    )
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, null=True, blank=True, related_name="review_flags"
    )
    reason = models.CharField(max_length=20, choices=ReviewFlagReason.choices)
    detail = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "When the flag was emailed: to the clinician who approved the answer, for a flag "
            "on a patient answer, otherwise (or if they cannot be emailed) to the article's "
            "reviewer."
        ),
    )

    objects = ReviewFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self):
        about = f" (answer #{self.answer_id})" if self.answer_id else ""
        return f"{self.article.slug}{about}: {self.get_reason_display()}"

    def is_open(self) -> bool:
        """Whether the flag still stands (one query; lists annotate `with_open()` instead)."""
        return ReviewFlag.objects.with_open().values_list("still_open", flat=True).get(pk=self.pk)


class NoticeNature(models.TextChoices):
    """Kinds of editorial notice about a published study (Retraction Watch's RetractionNature,
    and Crossmark's update types)."""

    RETRACTION = "retraction", _("Retraction")
    CORRECTION = "correction", _("Correction")
    EXPRESSION_OF_CONCERN = "expression_of_concern", _("Expression of concern")
    REINSTATEMENT = "reinstatement", _("Reinstatement")


class NoticeSource(models.TextChoices):
    RETRACTION_WATCH = "retraction_watch", _("Retraction Watch database")
    CROSSREF = "crossref", _("Crossref (Crossmark update)")


class StudyNotice(models.Model):
    """A retraction, correction, expression of concern or reinstatement published about a
    study, as a source reported it. Recorded through `articles.study_changes.record_notice`,
    which also marks a retraction and flags the live articles citing the study."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="notices")
    nature = models.CharField(max_length=30, choices=NoticeNature.choices)
    notice_on = models.DateField(null=True, blank=True)
    notice_doi = models.CharField("notice DOI", max_length=200, blank=True)
    notice_pmid = models.CharField("notice PMID", max_length=12, blank=True)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=30, choices=NoticeSource.choices)
    source_id = models.CharField(
        max_length=200, help_text=_("The source's record ID, or the notice's DOI.")
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-notice_on", "-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "source", "source_id"], name="studynotice_unique_source_record"
            ),
        ]

    def __str__(self):
        return f"{self.study.key}: {self.get_nature_display()}"
