"""Django's model backend, reading a user's groups and permissions in one query.

Every staff page asks for permissions, and the screening admin and the second-factor rule ask
whether the user is in a group. Django's backend reads the user's own permissions and their
groups' permissions in two queries, and each group check was a third: here one query reads the
group names and both sets of permissions, kept on the user object for the rest of the request.
"""

from django.contrib.auth import backends
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Value

_CACHE_ATTRIBUTE = "_clinic_groups_and_permissions"


def groups_and_permissions(user) -> tuple[frozenset[str], frozenset[str]]:
    """(the user's group names, their permissions as "app_label.codename", their own and
    through their groups), read once per user object."""
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        own = (
            Permission.objects.filter(user=user)
            .values_list(Value("", output_field=CharField()), "content_type__app_label", "codename")
            .order_by()
        )
        through_groups = (
            Group.objects.filter(user=user)
            .values_list("name", "permissions__content_type__app_label", "permissions__codename")
            .order_by()
        )
        groups, permissions = set(), set()
        for group, app_label, codename in own.union(through_groups, all=True).order_by():
            if group:
                groups.add(group)
            if codename:  # None for a group without permissions
                permissions.add(f"{app_label}.{codename}")
        cached = (frozenset(groups), frozenset(permissions))
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def in_group(user, name: str) -> bool:
    """Whether the user belongs to the named group."""
    return name in groups_and_permissions(user)[0]


class ModelBackend(backends.ModelBackend):
    """Django's ModelBackend with `get_all_permissions` from `groups_and_permissions`."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(groups_and_permissions(user_obj)[1])
        return user_obj._perm_cache
