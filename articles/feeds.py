"""Atom feed of published articles."""

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from clinic.models import ClinicDetails

from .models import Article


class LatestArticlesFeed(Feed):
    feed_type = Atom1Feed
    link = reverse_lazy("articles:list")

    def title(self):
        return f"{ClinicDetails.load().name}: articles"

    def subtitle(self):
        return "Patient articles, each health claim linked to the study behind it."

    def items(self):
        return Article.objects.published().with_live_content()[:20]

    def item_title(self, article):
        return article.live_revision.title

    def item_description(self, article):
        # Atom1Feed writes this as <summary type="html">: the plain-text summary must become
        # HTML first, or a "<" or "&" in it would be read as markup by feed readers.
        return escape(article.live_revision.summary)

    def item_pubdate(self, article):
        return article.first_published_at

    def item_updateddate(self, article):
        return article.live_revision.published_at

    def item_author_name(self, article):
        return article.author.get_full_name() or article.author.get_username()
