from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import study_changes, workflow
from .forms import ArticleAdminForm
from .models import (
    REVIEWED_STUDY_FIELDS,
    Article,
    ArticleRevision,
    Citation,
    Claim,
    ReviewerProfile,
    ReviewFlag,
    Status,
    Study,
    StudyChange,
    Topic,
)
from .readability import measure
from .staff_views import ArticleStaffViewsMixin
from .study_admin_views import StudyToolsMixin, export_response

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class CitingClaimInline(admin.TabularInline):
    """The claims that cite a study, so a retraction's reach is visible at once."""

    model = Citation
    fields = readonly_fields = ("article", "revision", "claim_text", "locator", "verdict")
    extra = 0
    can_delete = False
    verbose_name = _("claim citing this study")
    verbose_name_plural = _("claims citing this study")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("claim__revision__article")
            .order_by("-claim__revision__created_at", "claim__ordinal")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("article"))
    def article(self, citation):
        return citation.claim.revision.article.slug

    @admin.display(description=_("revision"))
    def revision(self, citation):
        revision = citation.claim.revision
        live = " (live)" if revision.article.live_revision_id == revision.pk else ""
        return f"r{revision.number}{live}"

    @admin.display(description=_("claim"))
    def claim_text(self, citation):
        return citation.claim.text


class AwaitingReviewFilter(admin.SimpleListFilter):
    title = _("type and finding")
    parameter_name = "described"

    def lookups(self, request, model_admin):
        return [("no", _("Not yet set (imported)")), ("yes", _("Set by a reviewer"))]

    def queryset(self, request, queryset):
        described = queryset.described()
        if self.value() == "yes":
            return described
        if self.value() == "no":
            return queryset.exclude(pk__in=described.values("pk"))
        return queryset


@admin.register(Study)
class StudyAdmin(StudyToolsMixin, admin.ModelAdmin):
    list_display = ["key", "short_title", "study_type", "year", "doi", "pmid", "is_retracted"]
    list_filter = [AwaitingReviewFilter, "study_type", "year", "is_retracted"]
    search_fields = ["key", "title", "authors", "doi", "pmid"]
    inlines = [CitingClaimInline]
    autocomplete_fields = ["included_studies"]
    actions = ["export_bibtex", "export_csl_json", "confirm_suggested_type"]
    fieldsets = [
        (None, {"fields": ["key", "study_type", "suggestion", "finding"]}),
        (
            _("Facts that decide which certainty wordings fit"),
            {"fields": ["sample_size", "participants", "sham_controlled", "stated_grade"]},
        ),
        (
            _("Bibliographic record"),
            {
                "fields": [
                    "authors",
                    "title",
                    "journal",
                    "year",
                    ("volume", "issue", "pages"),
                    "doi",
                    "pmid",
                    "url",
                ]
            },
        ),
        (_("Retraction"), {"fields": ["is_retracted", "retraction_note", "notices"]}),
        (
            _("For a systematic review: the library's studies it includes"),
            {"fields": ["included_studies"], "classes": ["collapse"]},
        ),
        (_("Changes waiting for a reviewer"), {"fields": ["pending_changes"]}),
    ]

    # What patients read about a study, and whether it may support claims at all, is a
    # clinical judgement: only reviewers change it once the study exists.
    verified_fields = list(study_changes.VERIFIED_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        fields = [
            *super().get_readonly_fields(request, obj),
            "pending_changes",
            "suggestion",
            "notices",
        ]
        if obj is not None and not request.user.has_perm("articles.verify_study"):
            fields += self.verified_fields
        if obj is not None and obj.is_cited():
            # Article bodies and patients' links to /evidence/<key>/ use the key.
            fields.append("key")
        return fields

    @admin.display(description=_("pending changes"))
    def pending_changes(self, study):
        pending = study.changes.pending() if study.pk else []
        if not pending:
            return _("None")
        return render_to_string("admin/articles/_study_changes.html", {"changes": pending})

    def save_model(self, request, obj, form, change):
        """Edits to a study that submitted revisions cite become a proposal for a reviewer;
        a reviewer's own edit is proposed and accepted in one step, recorded the same way."""
        if not change or not obj.is_cited():
            return super().save_model(request, obj, form, change)
        values = {
            name: getattr(obj, name) for name in form.changed_data if name in REVIEWED_STUDY_FIELDS
        }
        proposal = study_changes.propose_change(obj, values, by=request.user)
        if proposal is None:
            request.study_change_message = (messages.INFO, _("Nothing had changed."))
        elif request.user.has_perm("articles.verify_study"):
            accepted = study_changes.accept_change(proposal, by=request.user)
            flagged = obj.review_flags.filter(raised_at=accepted.decided_at)
            request.study_change_message = (
                messages.SUCCESS,
                _("Your change to %(key)s is recorded and applied. %(flagged)s")
                % {
                    "key": obj.key,
                    "flagged": study_changes.flagged_message(
                        articles=flagged.filter(answer__isnull=True).count(),
                        answers=flagged.filter(answer__isnull=False).count(),
                    ),
                },
            )
        else:
            request.study_change_message = (
                messages.WARNING,
                _(
                    "Articles that were reviewed cite %(key)s, so your change was saved as a "
                    "proposal: it applies only when a medical reviewer accepts it (Admin → "
                    "Study changes). Patients still see the study as it was."
                )
                % {"key": obj.key},
            )
        # Keep the admin's history and message in step with what really happened.
        obj.refresh_from_db()
        return None

    def response_change(self, request, obj):
        outcome = getattr(request, "study_change_message", None)
        if outcome is None:
            return super().response_change(request, obj)
        level, text = outcome
        self.message_user(request, text, level)
        return HttpResponseRedirect(request.path)

    @admin.display(description=_("notices"))
    def notices(self, study):
        """Retractions, corrections and other notices the imports recorded (read-only: a
        table rather than an inline, so the change form posts no extra formset)."""
        found = study.notices.all() if study.pk else []
        if not found:
            return _("None recorded")
        return render_to_string("admin/articles/_study_notices.html", {"notices": found})

    @admin.display(description=_("suggested type"))
    def suggestion(self, study):
        if not study.suggested_study_type:
            return _("None")
        return _(
            "%(type)s (from the publication types: %(types)s). Confirm it by setting the type."
        ) % {
            "type": study.get_suggested_study_type_display(),
            "types": ", ".join(study.publication_types) or _("none listed"),
        }

    @admin.action(description=_("Export selected studies as BibTeX"))
    def export_bibtex(self, request, queryset):
        return export_response(queryset.order_by("key"), "bibtex", "studies")

    @admin.action(description=_("Export selected studies as CSL-JSON"))
    def export_csl_json(self, request, queryset):
        return export_response(queryset.order_by("key"), "csl-json", "studies")

    def has_verify_permission(self, request):
        return request.user.has_perm(study_changes.VERIFY_PERMISSION)

    @admin.action(
        description=_("Confirm the suggested type of selected studies"), permissions=["verify"]
    )
    def confirm_suggested_type(self, request, queryset):
        done, skipped = [], 0
        for study in queryset.filter(study_type="").exclude(suggested_study_type=""):
            values = {"study_type": study.suggested_study_type}
            if study.is_cited():
                # Cited studies change only through a recorded, accepted change.
                change = study_changes.propose_change(study, values, by=request.user)
                study_changes.accept_change(change, by=request.user)
            else:
                study.study_type = study.suggested_study_type
                study.save(update_fields=["study_type", "updated_at"])
            done.append(study.key)
        skipped = queryset.count() - len(done)
        if done:
            self.message_user(
                request, _("Type confirmed for: %s.") % ", ".join(done), messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                _("%(n)s selected stud(ies) had a type already or no suggestion.") % {"n": skipped},
                messages.WARNING,
            )

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, study):
        return study.title if len(study.title) <= 80 else study.title[:79] + "…"


def parse_date(value: str) -> date | None:
    """The date in `value` (YYYY-MM-DD), or None if it is not one."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("medical review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("now", _("Review due now (a cited study changed)")),
            ("overdue", _("Review overdue")),
            ("soon", _("Due in 30 days")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "now":
            return queryset.review_due_now()
        if self.value() == "overdue":
            return queryset.filter(next_review_due_on__lt=today)
        if self.value() == "soon":
            return queryset.filter(
                next_review_due_on__gte=today, next_review_due_on__lte=today + timedelta(days=30)
            )
        return queryset


def last_reviewed_revision(article: Article) -> ArticleRevision | None:
    """The latest revision submitted for review: its notes are the ones the author needs."""
    return article.revisions.filter(submitted_at__isnull=False).order_by("-number").first()


def attach_reviewer_notes(claims: list[Claim], reviewed: ArticleRevision | None) -> None:
    """Give each claim the reviewer's notes on the same claim in the last reviewed revision:
    matched by wording, else by position, so a reworded claim keeps the note that asked for
    the rewording."""
    for claim in claims:
        claim.review_notes = []
    if reviewed is None:
        return
    earlier = list(
        reviewed.claims.prefetch_related(
            Prefetch("citations", queryset=Citation.objects.select_related("study", "verdict_by"))
        )
    )
    by_hash = {claim.text_hash: claim for claim in earlier}
    by_ordinal = {claim.ordinal: claim for claim in earlier}
    for claim in claims:
        match = by_hash.get(claim.text_hash) or by_ordinal.get(claim.ordinal)
        if match is None:
            continue
        claim.review_notes = [
            citation
            for citation in match.citations.all()
            if citation.verdict_note or (citation.verdict and citation.verdict != "supports")
        ]


@admin.register(Article)
class ArticleAdmin(ArticleStaffViewsMixin, admin.ModelAdmin):
    form = ArticleAdminForm
    change_form_template = "admin/articles/article/change_form.html"
    list_display = [
        "title",
        "status",
        "is_live",
        "topic",
        "author",
        "reviewer",
        "next_review_due_on",
    ]
    list_filter = ["status", ReviewDueFilter, "topic"]
    list_select_related = ["draft", "live_revision", "topic", "author", "reviewer"]
    search_fields = ["slug", "draft__title", "live_revision__title"]
    readonly_fields = ["status", "live_link", "review_dates", "claims_table", "readability"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "base_version"]}),
        (_("Readability"), {"fields": ["readability"]}),
        (_("Claims and citations"), {"fields": ["claims_table"]}),
        (
            _("Settings"),
            {"fields": ["topic", "author", "reviewer", "status", "review_dates", "live_link"]},
        ),
    ]

    class Media:
        # urlify.js is the admin's own slug maker, which article-slug.js calls.
        js = ["admin/js/urlify.js", "js/article-slug.js", "js/study-keys.js"]
        css = {"all": ["css/admin-articles.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("draft", "live_revision")

    def view_on_site(self, article):
        # Only a live article has a public page; drafts have "Preview" instead.
        return article.get_absolute_url() if article.is_published() else None

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "reviewer"]
        if obj is not None or not request.user.is_superuser:
            # Only a superuser writes an article on someone's behalf; anyone else is its author
            # (save_model), whatever a crafted POST says.
            fields.append("author")
        if obj is not None and obj.first_published_at:
            # Patients, feeds and search engines know the published address.
            fields.append("slug")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .filter(Q(groups__name="Authors") | Q(is_superuser=True))
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        # Text under review or approved is frozen: nobody edits it in place.
        if obj is not None and obj.status in (Status.IN_REVIEW, Status.APPROVED):
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("title"), ordering="draft__title")
    def title(self, article):
        return article.title

    # Shown when the text is read-only (in review, approved, or a view-only user); when it is
    # editable, the form's fields of the same names are used instead.
    @admin.display(description=_("summary"))
    def summary(self, article):
        revision = article.working_revision
        return revision.summary if revision else ""

    @admin.display(description=_("body (Markdown)"))
    def body(self, article):
        revision = article.working_revision
        return format_html('<pre class="body-source">{}</pre>', revision.body if revision else "")

    @admin.display(description=_("live"), boolean=True)
    def is_live(self, article):
        return article.is_published()

    @admin.display(description=_("public page"))
    def live_link(self, article):
        if not article.is_published():
            return _("Not published")
        return render_to_string(
            "admin/articles/_live_link.html", {"url": article.get_absolute_url()}
        )

    @admin.display(description=_("medical review dates"))
    def review_dates(self, article):
        if not article.last_reviewed_on:
            return _("Not reviewed yet")
        overdue = _(" (overdue)") if article.is_review_overdue() else ""
        return _("Last reviewed %(last)s; next review due %(next)s%(overdue)s") % {
            "last": date_format(article.last_reviewed_on),
            "next": date_format(article.next_review_due_on),
            "overdue": overdue,
        }

    @admin.display(description=_("reading level"))
    def readability(self, article):
        revision = article.working_revision if article.pk else None
        if revision is None:
            return _("Save the article to see how easy its text is to read.")
        return render_to_string(
            "admin/articles/_readability.html",
            {
                "scores": measure(revision.rendered_html),
                "max_grade": settings.ARTICLE_MAX_READING_GRADE,
            },
        )

    @admin.display(description=_("claims found in the body"))
    def claims_table(self, article):
        revision = article.working_revision if article.pk else None
        if revision is None:
            return _("Save the article to see its claims.")
        claims = list(revision.claims.prefetch_related("citations__study"))
        reviewed = last_reviewed_revision(article)
        attach_reviewer_notes(claims, reviewed)
        return render_to_string(
            "admin/articles/_claims_table.html",
            {
                "claims": claims,
                "revision": revision,
                "reviewed": reviewed,
                "lint_findings": workflow.open_lint_findings(article, revision),
                # The last review's comments stay beside the claims until the next review.
                "comments": reviewed.comments.select_related("author", "revision")
                if reviewed
                else [],
            },
        )

    def save_model(self, request, obj, form, change):
        if not change and "author" not in form.cleaned_data:
            obj.author = request.user
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            workflow.save_draft(
                obj,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                body=form.cleaned_data["body"],
                by=request.user,
                parsed=form.parsed,
            )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["transitions"] = workflow.available_transitions(obj, request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Workflow buttons post here even when the text itself is frozen and not editable.
        if request.method == "POST" and object_id:
            for name in workflow.TRANSITIONS:
                if f"_transition_{name}" in request.POST:
                    obj = self.get_object(request, object_id)
                    if obj is None or not self.has_view_permission(request, obj):
                        raise PermissionDenied
                    self.run_transition(request, Article.objects.filter(pk=obj.pk), name)
                    return HttpResponseRedirect(request.path)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def run_transition(self, request, queryset, name) -> bool:
        """Apply one workflow step to each article; report successes and each refusal.
        True when nothing was refused."""
        step = workflow.TRANSITIONS[name]
        options = {}
        if name == "request_changes":
            options["comment"] = request.POST.get("comment", "")
        if name == "approve" and request.POST.get("next_review_due_on", "").strip():
            due = parse_date(request.POST["next_review_due_on"])
            if due is None:
                self.message_user(
                    request,
                    _("Approve refused: the next review date must be a date (YYYY-MM-DD)."),
                    messages.ERROR,
                )
                return False
            options["next_review_due_on"] = due
        done, refused = [], False
        for article in queryset.select_related("draft", "live_revision"):
            try:
                step.run(article, by=request.user, **options)
            except workflow.WorkflowRefused as refusal:
                refused = True
                self.message_user(request, f"{step.label} refused for {refusal}", messages.ERROR)
            else:
                done.append(article.title)
        if done:
            self.message_user(
                request,
                f"{step.label}: done for {len(done)} article(s): " + "; ".join(done),
                messages.SUCCESS,
            )
        return not refused

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        # One bulk action per workflow step, offered to users who hold the step's permission.
        actions = super().get_actions(request, action_location=action_location)
        if action_location != ActionLocation.CHANGE_LIST:
            return actions  # the change page has its own workflow buttons
        for step in workflow.TRANSITIONS.values():
            if request.user.has_perm(f"articles.{step.permission}"):
                actions[step.name] = (
                    partial(_run_step_action, name=step.name),
                    step.name,
                    _("%(step)s: selected articles") % {"step": step.label},
                )
        return actions


def _run_step_action(modeladmin, request, queryset, *, name):
    modeladmin.run_transition(request, queryset, name)


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "user",
        "qualification",
        "registration_body",
        "registration_number",
        "verified_on",
    ]
    search_fields = ["display_name", "registration_number", "user__username"]
    autocomplete_fields = ["user"]


@admin.register(StudyChange)
class StudyChangeAdmin(admin.ModelAdmin):
    """Proposed changes to cited studies; reviewers accept or reject them in bulk."""

    list_display = ["study", "changed", "status", "proposed_by", "proposed_at", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["study", "proposed_by", "decided_by"]
    search_fields = ["study__key", "study__title"]
    # A tuple: one value whose type fits both options in the stubs (a list fits only one).
    fields = readonly_fields = (
        "study",
        "comparison",
        "reason",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    actions = ["accept", "reject"]

    def has_add_permission(self, request):
        return False  # proposed by editing the study

    def has_change_permission(self, request, obj=None):
        return False  # decided only by the actions, which record who and when

    def has_delete_permission(self, request, obj=None):
        return False

    def has_verify_permission(self, request):
        return request.user.has_perm(study_changes.VERIFY_PERMISSION)

    @admin.display(description=_("fields"))
    def changed(self, change):
        return ", ".join(str(label) for label, _before, _after in change.changed_fields())

    @admin.display(description=_("change"))
    def comparison(self, change):
        return render_to_string("admin/articles/_study_changes.html", {"changes": [change]})

    def _decide(self, request, queryset, decide, label):
        done = 0
        for change in queryset.select_related("study"):
            try:
                decide(change, by=request.user)
            except study_changes.StudyChangeRefused as refusal:
                self.message_user(request, f"{change.study.key}: {refusal}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{label} {done} change(s).", messages.SUCCESS)

    @admin.action(description=_("Accept selected changes"), permissions=["verify"])
    def accept(self, request, queryset):
        self._decide(request, queryset, study_changes.accept_change, "Accepted")

    @admin.action(description=_("Reject selected changes"), permissions=["verify"])
    def reject(self, request, queryset):
        self._decide(request, queryset, study_changes.reject_change, "Rejected")


class QueryChoicesFilter(admin.SimpleListFilter):
    """A list filter whose choices are each a label and the filter it applies."""

    options: "dict[str, tuple[StrOrPromise, Q]]"

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _query) in self.options.items()]

    def queryset(self, request, queryset):
        if self.value() in self.options:
            return queryset.filter(self.options[self.value()][1])
        return queryset


class StillOpenFilter(QueryChoicesFilter):
    """Flags still waiting for a review (see `ReviewFlagQuerySet.with_open`)."""

    title, parameter_name = _("still open"), "open"
    options = {"yes": (_("Yes"), Q(still_open=True)), "no": (_("No"), Q(still_open=False))}


class FlagSubjectFilter(QueryChoicesFilter):
    """Flags about an article's own text, or about a patient answer under it."""

    title, parameter_name = _("about"), "about"
    options = {
        "article": (_("The article's text"), Q(answer__isnull=True)),
        "answer": (_("A patient answer"), Q(answer__isnull=False)),
    }


@admin.register(ReviewFlag)
class ReviewFlagAdmin(admin.ModelAdmin):
    """Why live articles (or patient answers under them) are due for review now, and whether
    their reviewer was emailed."""

    list_display = [
        "article",
        "answer",
        "study",
        "reason",
        "raised_at",
        "raised_by",
        "notified_at",
        "open",
    ]
    list_filter = ["reason", StillOpenFilter, FlagSubjectFilter]
    list_select_related = ["article__live_revision", "answer", "study", "raised_by"]
    search_fields = ["article__slug", "study__key"]
    fields = readonly_fields = (
        "article",
        "answer",
        "study",
        "reason",
        "detail",
        "raised_by",
        "raised_at",
        "notified_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).with_open()

    @admin.display(description=_("still open"), boolean=True, ordering="still_open")
    def open(self, flag):
        return flag.still_open
