"""Sitemap of the public pages."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Study


class ArticleSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Article.objects.published().select_related("live_revision").order_by("slug")

    def lastmod(self, article):
        return article.live_revision.published_at


class StudySitemap(Sitemap):
    changefreq = "yearly"
    priority = 0.3

    def items(self):
        # Only the studies whose page patients can open (see StudyQuerySet.described).
        return Study.objects.described().order_by("key")

    def lastmod(self, study):
        return study.updated_at


class PageSitemap(Sitemap):
    priority = 0.5

    def items(self):
        # The intake form is left out: it is marked noindex.
        return ["home", "articles:list", "articles:evidence_list"]

    def location(self, name):
        return reverse(name)


sitemaps = {"pages": PageSitemap, "articles": ArticleSitemap, "studies": StudySitemap}
