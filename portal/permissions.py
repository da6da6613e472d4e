"""Who may do what. Predicates only: no queries beyond the user's own memberships.

Every person-level read goes through a selector (`portal/selectors.py` and each app's own)
that uses these predicates, so a view cannot forget the check.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Membership, User
from .roles import Role

# Roles that must enrol an authenticator app before seeing any person-level page or an admin.
MFA_REQUIRED_ROLES = frozenset(Role) - {Role.SERVICE_USER}
# Roles that see the people of their services.
CASEWORK_ROLES = frozenset({Role.PEER_SUPPORT_WORKER, Role.COORDINATOR})
# Roles that may search the audit log of their services.
AUDIT_ROLES = frozenset({Role.PEER_SUPPORT_WORKER, Role.COORDINATOR, Role.ADMINISTRATOR})
# Roles that may read the development SMS outbox.
OUTBOX_ROLES = frozenset({Role.PEER_SUPPORT_WORKER, Role.COORDINATOR, Role.ADMINISTRATOR})


def memberships(user: User) -> list[Membership]:
    """The user's memberships, fetched once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_portal_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user))
        user._portal_memberships = cached
    return cached


def roles_of(user: User) -> set[Role]:
    roles = {Role(m.role) for m in memberships(user)}
    if getattr(user, "is_superuser", False):
        roles.add(Role.ADMINISTRATOR)
    return roles


def has_any_role(user: User, roles: Iterable[Role]) -> bool:
    return bool(roles_of(user) & set(roles))


def is_administrator(user: User) -> bool:
    return Role.ADMINISTRATOR in roles_of(user)


def service_ids_where(user: User, roles: Iterable[Role]) -> set[int]:
    """Services in which the user holds one of ``roles``."""
    wanted = {str(role) for role in roles}
    return {m.service_id for m in memberships(user) if m.role in wanted}


def is_service_user(user: User) -> bool:
    return Role.SERVICE_USER in roles_of(user)


def needs_mfa(user: User) -> bool:
    """Staff, volunteers, editors and admins must use an authenticator app."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or roles_of(user) & MFA_REQUIRED_ROLES)


def can_search_audit(user: User) -> bool:
    return has_any_role(user, AUDIT_ROLES)


def can_read_outbox(user: User) -> bool:
    return has_any_role(user, OUTBOX_ROLES)


def can_manage_people(user: User) -> bool:
    return has_any_role(user, CASEWORK_ROLES | {Role.ADMINISTRATOR})
