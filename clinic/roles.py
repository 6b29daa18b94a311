"""The staff groups and their permissions: the one place to change what a role may do.

Each group is granted exactly the permissions listed here. `sync_groups` runs after every
`migrate` (post_migrate, see `clinic.apps`), creates missing groups and sets each group's
permissions to this list, adding and removing as needed; a permission given to a group by hand in
the admin is therefore undone by the next migrate. A new model or custom permission that a role
needs goes in this module, in the same change that adds the model: no data migration is needed.
`tests/test_roles.py` pins each set so a change here is a deliberate one.

Screening adds a second guard: submissions are shown only to the Clinical staff group and
superusers, whatever permissions a user holds (`screening.admin.is_clinical_staff`).
"""

import logging

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

logger = logging.getLogger(__name__)

AUTHORS = "Authors"
MEDICAL_REVIEWERS = "Medical reviewers"
CLINICAL_STAFF = "Clinical staff"

ROLES: dict[str, frozenset[str]] = {
    # Authors write drafts, maintain the study library's bibliographic details and submit.
    AUTHORS: frozenset(
        {
            "articles.view_article",
            "articles.add_article",
            "articles.change_article",
            "articles.submit_article",
            "articles.view_study",
            "articles.add_study",
            "articles.change_study",
            "articles.view_topic",
            "articles.view_citation",
            "articles.view_claim",
            "articles.view_studychange",
            "articles.view_reviewflag",
            "articles.view_studynotice",
            # Patient questions: read the queue, redact, decline; write public answers.
            "questions.view_patientquestion",
            "questions.change_patientquestion",
            "questions.view_publicanswer",
            "questions.add_publicanswer",
            "questions.change_publicanswer",
        }
    ),
    # Medical reviewers check claims against studies, approve and publish; they do not write.
    MEDICAL_REVIEWERS: frozenset(
        {
            "articles.view_article",
            "articles.review_article",
            "articles.approve_article",
            "articles.publish_article",
            "articles.view_study",
            "articles.change_study",
            "articles.verify_study",
            "articles.view_topic",
            "articles.view_citation",
            "articles.change_citation",
            "articles.view_claim",
            "articles.change_claim",
            "articles.view_studychange",
            "articles.view_reviewflag",
            "articles.view_studynotice",
            # Patient questions: read, redact and decline; answers are reviewed with the
            # article permissions above (review, approve, publish).
            "questions.view_patientquestion",
            "questions.change_patientquestion",
            "questions.view_publicanswer",
        }
    ),
    # Clinical staff handle intake submissions and maintain draft questionnaire versions.
    CLINICAL_STAFF: frozenset(
        {
            "screening.view_intakesubmission",
            "screening.change_intakesubmission",
            "screening.export_submission",
            "screening.view_submissionnote",
            "screening.add_submissionnote",
            "screening.view_submissionaccess",
            "screening.view_questionnaire",
            "screening.add_questionnaire",
            "screening.change_questionnaire",
            "screening.activate_questionnaire",
            "screening.view_question",
            "screening.add_question",
            "screening.change_question",
            "screening.delete_question",
            "screening.view_flagrule",
            "screening.add_flagrule",
            "screening.change_flagrule",
            "screening.delete_flagrule",
            # Patient questions: the only role that sees email addresses and replies privately.
            "questions.view_patientquestion",
            "questions.change_patientquestion",
            "questions.reply_patientquestion",
            "questions.view_publicanswer",
        }
    ),
}


class UnknownPermission(LookupError):
    """A role names a permission that no installed model defines (a typo or a removed model)."""


def sync_groups(apps, using="default", *, strict=True):
    """Create the groups in ROLES and give each exactly its listed permissions.

    `apps` is an app registry (the global one, or the migration state's from post_migrate).
    A permission that does not exist raises UnknownPermission; with strict=False (a database
    migrated only part of the way) it is logged and the rest are granted.
    """
    app_labels = {name.split(".", 1)[0] for names in ROLES.values() for name in names}
    # Django creates permissions in its own post_migrate receiver, one app at a time and
    # perhaps after this one runs; create them now so every role can be granted in one pass.
    for label in app_labels:
        app_config = global_apps.get_app_config(label)
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(content_type__app_label__in=app_labels)
        .values_list("pk", "content_type__app_label", "codename")
    }
    for group_name, names in ROLES.items():
        missing = sorted(names - by_name.keys())
        if missing:
            message = f"{group_name}: no such permission {', '.join(missing)}"
            if strict:
                raise UnknownPermission(message)
            logger.warning("Staff roles not fully granted. %s", message)
        group, _created = Group.objects.using(using).get_or_create(name=group_name)
        group.permissions.set([by_name[name] for name in names if name in by_name])
