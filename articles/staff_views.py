"""Staff-only views on articles, served inside the admin: preview, review, history, diff, dossier.

Each view checks the same permission as the article's admin page (view permission on that
article) on the server, so a link that leaks never shows what its holder may not see.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from .models import Article
from .views import article_page_context


class ArticleStaffViewsMixin:
    """Adds the staff views to ArticleAdmin's URLs, wrapped in the admin's login check."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:object_id>/preview/",
                wrap(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            path(
                "<int:object_id>/preview/<int:number>/",
                wrap(self.preview_view),
                name="{}_{}_preview_revision".format(*info),
            ),
            *super().get_urls(),
        ]

    def get_article_or_403(self, request, object_id):
        article = get_object_or_404(
            Article.objects.select_related("draft", "live_revision", "author", "reviewer"),
            pk=object_id,
        )
        if not self.has_view_permission(request, article):
            raise PermissionDenied
        return article

    @method_decorator(never_cache)
    def preview_view(self, request, object_id, number=None):
        """The article exactly as patients would see it, for the working or any revision."""
        article = self.get_article_or_403(request, object_id)
        if number is None:
            revision = article.working_revision
            if revision is None:
                raise PermissionDenied
        else:
            revision = get_object_or_404(article.revisions, number=number)
        context = article_page_context(request, article, revision)
        context["preview"] = True
        response = TemplateResponse(request, "articles/article_detail.html", context)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
