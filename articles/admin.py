from django.contrib import admin, messages
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from . import workflow
from .forms import ArticleAdminForm
from .models import Article, Citation, Study, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class CitingClaimInline(admin.TabularInline):
    """The claims that cite a study, so a retraction's reach is visible at once."""

    model = Citation
    fields = ["article", "revision", "claim_text", "locator", "verdict"]
    readonly_fields = fields
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

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, study):
        return study.title if len(study.title) <= 80 else study.title[:79] + "…"


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "status", "is_live", "topic", "reviewer", "next_review_due_on"]
    list_filter = ["status", "topic"]
    list_select_related = ["draft", "live_revision", "topic", "reviewer"]
    search_fields = ["slug", "draft__title", "live_revision__title"]
    readonly_fields = ["status", "live_link", "claims_table"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body"]}),
        (_("Claims and citations"), {"fields": ["claims_table"]}),
        (_("Settings"), {"fields": ["topic", "author", "reviewer", "status", "live_link"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("draft", "live_revision")

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description=_("title"), ordering="draft__title")
    def title(self, article):
        return article.title

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

    @admin.display(description=_("claims found in the body"))
    def claims_table(self, article):
        revision = article.working_revision if article.pk else None
        if revision is None:
            return _("Save the article to see its claims.")
        claims = revision.claims.prefetch_related("citations__study")
        return render_to_string(
            "admin/articles/_claims_table.html", {"claims": claims, "revision": revision}
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

    def _run(self, request, queryset, operation, done_message):
        done = 0
        for article in queryset.select_related("draft", "live_revision"):
            try:
                operation(article, by=request.user)
            except workflow.WorkflowRefused as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Publish selected articles"), permissions=["publish"])
    def publish(self, request, queryset):
        self._run(request, queryset, workflow.publish, _("Published %(count)d article(s)."))

    @admin.action(description=_("Unpublish selected articles"), permissions=["publish"])
    def unpublish(self, request, queryset):
        self._run(request, queryset, workflow.unpublish, _("Unpublished %(count)d article(s)."))

    def has_publish_permission(self, request):
        return request.user.has_perm("articles.publish_article")
