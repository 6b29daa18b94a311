from datetime import date, timedelta

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import workflow
from .forms import ArticleAdminForm
from .models import Article, Citation, ReviewerProfile, Status, Study, Topic
from .staff_views import ArticleStaffViewsMixin


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


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["key", "short_title", "study_type", "year", "doi", "pmid", "is_retracted"]
    list_filter = ["study_type", "year", "is_retracted"]
    search_fields = ["key", "title", "authors", "doi", "pmid"]
    inlines = [CitingClaimInline]
    fieldsets = [
        (None, {"fields": ["key", "study_type", "finding", "sample_size"]}),
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
        (_("Retraction"), {"fields": ["is_retracted", "retraction_note"]}),
    ]

    # What patients read about a study, and whether it may support claims at all, is a
    # clinical judgement: only reviewers change it once the study exists.
    verified_fields = ["study_type", "finding", "is_retracted", "retraction_note"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.has_perm("articles.verify_study"):
            fields += self.verified_fields
        return fields

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, study):
        return study.title if len(study.title) <= 80 else study.title[:79] + "…"


def future_date(value):
    """The date in `value` (YYYY-MM-DD) if it is after today, else None."""
    try:
        due = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return due if due > timezone.localdate() else None


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("medical review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("Review overdue")), ("soon", _("Due in 30 days"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_review_due_on__lt=today)
        if self.value() == "soon":
            return queryset.filter(
                next_review_due_on__gte=today, next_review_due_on__lte=today + timedelta(days=30)
            )
        return queryset


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
    readonly_fields = ["status", "live_link", "review_dates", "claims_table"]
    actions = [*workflow.TRANSITIONS]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "base_version"]}),
        (_("Claims and citations"), {"fields": ["claims_table"]}),
        (
            _("Settings"),
            {"fields": ["topic", "author", "reviewer", "status", "review_dates", "live_link"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("draft", "live_revision")

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "reviewer"]
        if obj is not None:
            fields.append("author")
            if obj.first_published_at:
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
            "last": article.last_reviewed_on,
            "next": article.next_review_due_on,
            "overdue": overdue,
        }

    @admin.display(description=_("claims found in the body"))
    def claims_table(self, article):
        revision = article.working_revision if article.pk else None
        if revision is None:
            return _("Save the article to see its claims.")
        claims = revision.claims.prefetch_related("citations__study")
        return render_to_string(
            "admin/articles/_claims_table.html",
            {
                "claims": claims,
                "revision": revision,
                "lint_findings": workflow.open_lint_findings(article, revision),
                "comments": article.comments.select_related("author", "revision"),
            },
        )

    def save_model(self, request, obj, form, change):
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

    def run_transition(self, request, queryset, name):
        """Apply one workflow step to each article; report successes and each refusal."""
        transition = workflow.TRANSITIONS[name]
        options = {}
        if name == "request_changes":
            options["comment"] = request.POST.get("comment", "")
        if name == "approve" and request.POST.get("next_review_due_on"):
            due = future_date(request.POST["next_review_due_on"])
            if due is None:
                self.message_user(
                    request,
                    _("Approve refused: the next review date must be a future date (YYYY-MM-DD)."),
                    messages.ERROR,
                )
                return
            options["next_review_due_on"] = due
        done = []
        for article in queryset.select_related("draft", "live_revision"):
            try:
                transition.function(article, by=request.user, **options)
            except workflow.WorkflowRefused as refusal:
                self.message_user(
                    request, f"{transition.label} refused for {refusal}", messages.ERROR
                )
            else:
                done.append(article.title)
        if done:
            self.message_user(
                request,
                f"{transition.label}: done for {len(done)} article(s): " + "; ".join(done),
                messages.SUCCESS,
            )

    @admin.action(description=_("Submit selected articles for review"), permissions=["submit"])
    def submit_for_review(self, request, queryset):
        self.run_transition(request, queryset, "submit_for_review")

    @admin.action(description=_("Request changes to selected articles"), permissions=["review"])
    def request_changes(self, request, queryset):
        self.run_transition(request, queryset, "request_changes")

    @admin.action(description=_("Approve selected articles"), permissions=["approve"])
    def approve(self, request, queryset):
        self.run_transition(request, queryset, "approve")

    @admin.action(description=_("Publish selected articles"), permissions=["publish"])
    def publish(self, request, queryset):
        self.run_transition(request, queryset, "publish")

    @admin.action(description=_("Unpublish selected articles"), permissions=["publish"])
    def unpublish(self, request, queryset):
        self.run_transition(request, queryset, "unpublish")

    def has_submit_permission(self, request):
        return request.user.has_perm("articles.submit_article")

    def has_review_permission(self, request):
        return request.user.has_perm("articles.review_article")

    def has_approve_permission(self, request):
        return request.user.has_perm("articles.approve_article")

    def has_publish_permission(self, request):
        return request.user.has_perm("articles.publish_article")


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
