"""Authentication and authorisation: roles, API tokens, preview tokens."""

from charter.auth.roles import GRANTS, SYSTEM, Actor, Permission, Role

__all__ = ["GRANTS", "SYSTEM", "Actor", "Permission", "Role"]
