"""Users, groups and grants: what the pages and /api/users/, /api/groups/, /api/grants/ both call."""
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _


@transaction.atomic
def save_user(user, password=None, groups=None):
    """Create or update `user`; a non-empty `password` replaces the old one (validated first, never stored
    plainly); `groups`, when given, replace the user's groups."""
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    elif user.pk is None:
        user.set_unusable_password()  # no password yet: no login until an admin sets one
    user.full_clean(exclude=["password"])
    user.save()
    if groups is not None:
        user.groups.set(groups)
    return user


def delete_user(user, by):
    """Remove `user`; an admin cannot remove their own account (nobody might be left to manage access)."""
    if user.pk == by.pk:
        raise ValidationError(_("You cannot delete your own account."))
    user.delete()


@transaction.atomic
def save_group(group, members=None):
    group.full_clean()
    group.save()
    if members is not None:
        group.user_set.set(members)
    return group


def save_grant(grant):
    """Validate (one holder; an admin grant on nothing, others on one host or VM) and save."""
    grant.full_clean()
    grant.save()
    return grant


def users():
    return get_user_model().objects.prefetch_related("groups").order_by("username")
