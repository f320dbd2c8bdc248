"""Roles and what each may do. The same roles serve API tokens and admin users."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    PUBLISHER = "publisher"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # management reads, drafts included
    WRITE = "write"  # create, update, delete drafts
    PUBLISH = "publish"  # publish, unpublish, rollback, approve
    ADMIN = "admin"  # tokens, users, webhooks, settings


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.EDITOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.PUBLISHER: frozenset({Permission.READ, Permission.WRITE, Permission.PUBLISH}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a token, an admin user, or the system (CLI, worker)."""

    name: str
    role: Role
    kind: str = "token"  # token | user | system
    id: str = ""

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]


SYSTEM = Actor(name="system", role=Role.ADMIN, kind="system")
