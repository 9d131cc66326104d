"""Roles and permissions: the one place that decides who may do what to whom."""

from __future__ import annotations

from enum import Enum

from rooms.errors import Forbidden
from rooms.models import Identity, Role


class Permission(Enum):
    MODERATE = "moderate"  # mute, unmute, remove, delete
    MANAGE_ROOMS = "manage_rooms"  # create and change rooms
    DELETE_ROOMS = "delete_rooms"
    REVIEW = "review"  # flags and the audit log
    MANAGE_STAFF = "manage_staff"


RIGHTS: dict[Role, frozenset[Permission]] = {
    Role.PEER: frozenset(),
    Role.FACILITATOR: frozenset({Permission.MODERATE, Permission.MANAGE_ROOMS}),
    Role.ADMIN: frozenset(Permission),
}

_WHY = {
    Permission.MODERATE: "Only facilitators and admins can moderate.",
    Permission.MANAGE_ROOMS: "Only facilitators and admins can manage rooms.",
    Permission.DELETE_ROOMS: "Only admins can delete rooms.",
    Permission.REVIEW: "Only admins can review flags and read the audit log.",
    Permission.MANAGE_STAFF: "Only admins can manage staff.",
}


def require(identity: Identity, permission: Permission) -> None:
    if permission not in RIGHTS[identity.role]:
        raise Forbidden(_WHY[permission])


def require_can_act_on(actor: Role, target: Role) -> None:
    """Anyone who moderates may act on peers; on staff only a higher role may act."""
    if target.is_staff and actor <= target:
        why = "Facilitators cannot act on staff." if actor is Role.FACILITATOR else "Admins cannot act on admins."
        raise Forbidden(why)
