from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


def sync_staff_groups(sender, app_config=None, apps=None, using="default", plan=None, **kwargs):
    """After `migrate`, make the staff groups match clinic/roles.py exactly."""
    from clinic.roles import sync_groups

    if plan and any(backwards for _migration, backwards in plan):
        # Unapplying migrations: the models a role names may be gone; leave groups alone.
        return
    sync_groups(apps or global_apps, using=using, strict=False)


# Every model whose rows patients can see, directly or through a page (author and reviewer names
# come from the user model). A save or delete of any of them invalidates the page cache.
PUBLIC_CONTENT_MODELS = [
    "articles.Topic",
    "articles.Study",
    "articles.Article",
    "articles.ArticleRevision",
    "articles.Claim",
    "articles.Citation",
    "articles.ReviewerProfile",
    "articles.StudyChange",
    "articles.StudyNotice",
    "clinic.ClinicDetails",
    "questions.PublicAnswer",
    "search.SearchEntry",
    "screening.Questionnaire",
    "screening.Question",
    "screening.FlagRule",
    "auth.User",
]


def public_content_saved(sender, update_fields=None, **kwargs):
    from clinic.page_cache import content_changed

    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes nothing patients see
    content_changed()


def connect_page_cache_invalidation():
    """Route every change to public content through `clinic.page_cache.content_changed`."""
    from articles.signals import live_revision_changed
    from clinic.page_cache import content_changed
    from questions.signals import answer_live_changed

    for label in PUBLIC_CONTENT_MODELS:
        model = global_apps.get_model(label)
        uid = f"page_cache_{label}"
        post_save.connect(public_content_saved, sender=model, dispatch_uid=uid)
        post_delete.connect(content_changed, sender=model, dispatch_uid=uid)
    included = global_apps.get_model("articles.Study").included_studies.through
    m2m_changed.connect(content_changed, sender=included, dispatch_uid="page_cache_included")
    live_revision_changed.connect(content_changed, dispatch_uid="page_cache_live_revision")
    # Replacing a live answer retires the old one with a queryset update (no post_save).
    answer_live_changed.connect(content_changed, dispatch_uid="page_cache_answer_live")


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic import checks  # noqa: F401  (registers the deployment checks)

        connect_page_cache_invalidation()
        post_migrate.connect(sync_staff_groups, sender=self, dispatch_uid="clinic_sync_groups")
