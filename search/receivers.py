"""Signal receivers that keep the index fresh; each runs inside the change's transaction."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from articles.models import Article, Study
from articles.signals import live_revision_changed
from questions.models import PublicAnswer
from questions.signals import answer_live_changed

from . import index
from .sources import ANSWERS, ARTICLES, STUDIES


@receiver(live_revision_changed, sender=Article)
def article_went_live_or_off(sender, article, **kwargs):
    """Publish and unpublish: index the new live revision, or drop the article; its
    published answers go and come back with it."""
    index.update(ARTICLES, article)
    for answer in (
        PublicAnswer.objects.current()
        .filter(question__article=article)
        .select_related("question__article__live_revision")
    ):
        index.update(ANSWERS, answer)


@receiver(answer_live_changed, sender=PublicAnswer)
def answer_went_live_or_off(sender, answer, **kwargs):
    index.update(ANSWERS, answer)


@receiver(post_delete, sender=Article)
def article_deleted(sender, instance, **kwargs):
    index.remove(ARTICLES, instance)


@receiver(post_save, sender=Study)
def study_saved(sender, instance, raw=False, **kwargs):
    # The study library is public as soon as a study is in it; fixtures (raw) are rebuilt.
    if not raw:
        index.update(STUDIES, instance)


@receiver(post_delete, sender=Study)
def study_deleted(sender, instance, **kwargs):
    index.remove(STUDIES, instance)
