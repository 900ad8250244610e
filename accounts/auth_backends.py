"""Permission lookup that works on the embedded MongoDB server.

Django's ModelBackend reads permissions with `values_list("content_type__app_label", "codename")`,
a projection across a relation that SecantusDB evaluates as a literal (stack.md, defect 1): staff
whose permissions come from groups would get 403 everywhere in the admin. Here the app label is
fetched with `annotate(F(...))`, which both SecantusDB and MongoDB evaluate correctly.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import F


def permission_strings(permissions) -> set[str]:
    rows = permissions.annotate(perm_app_label=F("content_type__app_label"))
    return {f"{row.perm_app_label}.{row.codename}" for row in rows}


class MongoModelBackend(ModelBackend):
    def _get_user_permissions(self, user_obj):
        return user_obj.user_permissions.all()

    def _get_group_permissions(self, user_obj):
        group_ids = list(user_obj.groups.values_list("pk", flat=True))
        return Permission.objects.filter(group__in=group_ids)

    def _get_permissions(self, user_obj, obj, from_name):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perm_cache_name = f"_{from_name}_perm_cache"
        if not hasattr(user_obj, perm_cache_name):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = getattr(self, f"_get_{from_name}_permissions")(user_obj)
            setattr(user_obj, perm_cache_name, permission_strings(perms))
        return getattr(user_obj, perm_cache_name)
