"""clinic.auth_backends: Django's permissions and the group checks, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group, Permission

from clinic.auth_backends import ModelBackend, in_group
from clinic.roles import AUTHORS, CLINICAL_STAFF

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_permissions_are_djangos_own_and_through_groups(make_user):
    user = make_user(groups=[AUTHORS, CLINICAL_STAFF])
    user.user_permissions.add(Permission.objects.get(codename="delete_topic"))
    expected = DjangoModelBackend().get_all_permissions(fresh(user))
    assert "articles.delete_topic" in expected and "articles.add_article" in expected
    assert ModelBackend().get_all_permissions(fresh(user)) == expected


def test_groups_and_permissions_take_one_query(make_user, django_assert_num_queries):
    user = fresh(make_user(groups=[CLINICAL_STAFF]))
    with django_assert_num_queries(1):
        assert user.has_perm("screening.view_intakesubmission")
        assert not user.has_perm("articles.publish_article")
        assert in_group(user, CLINICAL_STAFF) and not in_group(user, AUTHORS)


def test_a_group_without_permissions_still_counts(make_user):
    Group.objects.create(name="Front desk")
    user = make_user(groups=["Front desk"])
    assert in_group(fresh(user), "Front desk")
    assert ModelBackend().get_all_permissions(fresh(user)) == set()


def test_inactive_users_have_no_permissions(make_user):
    user = make_user(groups=[CLINICAL_STAFF], is_active=False)
    assert ModelBackend().get_all_permissions(fresh(user)) == set()
    assert not fresh(user).has_perm("screening.view_intakesubmission")


def test_superusers_keep_every_permission(make_user):
    user = make_user(is_superuser=True)
    assert ModelBackend().get_all_permissions(fresh(user)) == (
        DjangoModelBackend().get_all_permissions(fresh(user))
    )
