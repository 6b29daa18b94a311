"""Staff roles: clinic/roles.py is the one source of each group's permissions."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from clinic import roles

pytestmark = pytest.mark.django_db


def granted(group_name):
    group = Group.objects.get(name=group_name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_authors_have_exactly_these_permissions():
    assert granted("Authors") == {
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
        "questions.view_patientquestion",
        "questions.change_patientquestion",
        "questions.view_publicanswer",
        "questions.add_publicanswer",
        "questions.change_publicanswer",
    }


def test_medical_reviewers_have_exactly_these_permissions():
    assert granted("Medical reviewers") == {
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
        "questions.view_patientquestion",
        "questions.change_patientquestion",
        "questions.view_publicanswer",
    }


def test_clinical_staff_have_exactly_these_permissions():
    assert granted("Clinical staff") == {
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
        "questions.view_patientquestion",
        "questions.change_patientquestion",
        "questions.reply_patientquestion",
        "questions.view_publicanswer",
    }


def test_no_group_may_touch_users_devices_or_lockouts():
    for group_name in roles.ROLES:
        assert not {
            name
            for name in granted(group_name)
            if name.split(".")[0] in {"auth", "axes", "otp_totp", "otp_static"}
        }


def test_migrate_restores_a_permission_removed_and_removes_one_added_by_hand():
    group = Group.objects.get(name="Authors")
    group.permissions.remove(Permission.objects.get(codename="submit_article"))
    group.permissions.add(Permission.objects.get(codename="publish_article"))

    call_command("migrate", verbosity=0)

    assert "articles.submit_article" in granted("Authors")
    assert "articles.publish_article" not in granted("Authors")


def test_a_missing_group_is_created_again():
    Group.objects.filter(name="Clinical staff").delete()

    roles.sync_groups(apps)

    assert granted("Clinical staff") == roles.ROLES["Clinical staff"]


def test_a_misspelt_permission_is_refused(monkeypatch):
    monkeypatch.setitem(roles.ROLES, "Authors", frozenset({"articles.wrtie_article"}))

    with pytest.raises(roles.UnknownPermission, match=r"articles\.wrtie_article"):
        roles.sync_groups(apps)
