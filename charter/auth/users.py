"""Admin users: people who sign in to ``/admin`` with a password, holding one of the API roles.

Passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher`` defaults, RFC 9106's
second recommended parameter set); hashes are upgraded transparently when the parameters change.
Sign-in is throttled per username and per client address from the ``login_attempts`` table, so the
limit holds across every app instance sharing the database.

A caller may rely on: :func:`authenticate_user` takes the same time whether or not the user
exists (a dummy hash is verified), never says which of username or password was wrong, and
raises :class:`~charter.exceptions.RateLimited` (with ``retry_after`` seconds in ``extra``)
before checking a password once the limit is reached.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY as DEFAULT_PARAMETERS

from charter.audit import record_audit
from charter.auth.roles import Actor, Permission, Role
from charter.auth.session_table import end_user_sessions
from charter.db.tables import TS, metadata
from charter.events import utcnow
from charter.exceptions import BadRequest, Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from charter.runtime import Runtime

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("password_changed_at", TS, nullable=False),
    sa.Column("last_login_at", TS, nullable=True),
    sa.Column("disabled_at", TS, nullable=True),
)

#: Failed and successful sign-ins, for throttling and the security log; pruned as it is read.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Index("ix_login_attempts_username_at", "username", "at"),
    sa.Index("ix_login_attempts_address_at", "address", "at"),
)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher, hasher.hash("charter-timing-equaliser")


def hasher_for(rt: Runtime) -> tuple[PasswordHasher, str]:
    """The Argon2id hasher of this install (``[charter.admin.password_hash]``: ``time_cost``,
    ``memory_cost`` in KiB, ``parallelism``; argon2-cffi's defaults, RFC 9106's low-memory
    profile, otherwise) and a dummy hash made with it, verified for unknown users."""
    opts = rt.settings.admin.get("password_hash") or {}
    return _hasher(
        int(opts.get("time_cost", DEFAULT_PARAMETERS.time_cost)),
        int(opts.get("memory_cost", DEFAULT_PARAMETERS.memory_cost)),
        int(opts.get("parallelism", DEFAULT_PARAMETERS.parallelism)),
    )


@dataclass(frozen=True)
class LoginPolicy:
    """Throttling: ``max_failures`` failed sign-ins for one username (or ``max_failures_per_address``
    from one address) within ``window`` lock further tries until the oldest failure leaves the window."""

    max_failures: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, options: dict[str, Any]) -> LoginPolicy:
        return cls(
            max_failures=int(options.get("login_max_failures", 5)),
            max_failures_per_address=int(options.get("login_max_failures_per_address", 20)),
            window=timedelta(minutes=float(options.get("login_window_minutes", 15))),
        )


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: Role
    created_at: datetime
    created_by: str
    last_login_at: datetime | None
    disabled_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(
            row.id,
            row.username,
            row.display_name,
            Role(row.role),
            row.created_at,
            row.created_by,
            row.last_login_at,
            row.disabled_at,
        )

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def actor(self) -> Actor:
        """The actor this user acts as in every library action (``user:<username>`` in audit logs)."""
        return Actor(name=self.username, role=self.role, kind="user", id=self.id)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise BadRequest(
            "a username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )
    return name


def check_password(password: str, username: str = "") -> None:
    """Reject passwords that are too short, too long, or the username itself."""
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"a password has at most {MAX_PASSWORD} characters")
    if username and password.strip().lower() == username.lower():
        raise BadRequest("the password may not be the username")


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise BadRequest(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}")


def _require_admin(actor: Actor) -> None:
    if not actor.can(Permission.ADMIN):
        raise Forbidden(f"role {actor.role.value!r} may not manage users")


def create_user(
    rt: Runtime, actor: Actor, username: str, password: str, role: str | Role, display_name: str | None = None
) -> User:
    """Create a user (admin only). Conflict when the username is taken."""
    _require_admin(actor)
    name = _check_username(username)
    parsed = _role(role)
    check_password(password, name)
    display = (display_name or name).strip()
    if not display or len(display) > 200:
        raise BadRequest("a display name has 1 to 200 characters")
    now = utcnow()
    user_id = str(uuid.uuid4())
    with rt.write() as (conn, _):
        if conn.execute(sa.select(users.c.id).where(users.c.username == name)).first():
            raise Conflict(f"a user named {name!r} already exists")
        conn.execute(
            sa.insert(users).values(
                id=user_id,
                username=name,
                display_name=display,
                role=parsed.value,
                password_hash=hasher_for(rt)[0].hash(password),
                created_at=now,
                created_by=f"{actor.kind}:{actor.name}",
                updated_at=now,
                password_changed_at=now,
                last_login_at=None,
                disabled_at=None,
            )
        )
        record_audit(conn, actor, "user.create", "user", user_id, {"username": name, "role": parsed.value})
    return User(user_id, name, display, parsed, now, f"{actor.kind}:{actor.name}", None, None)


def get_user(rt: Runtime, user_id: str) -> User:
    with rt.read() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"user {user_id!r} not found")
    return User.from_row(row)


def find_user(rt: Runtime, username: str) -> User | None:
    with rt.read() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == normalise_username(username))).first()
    return User.from_row(row) if row else None


def list_users(rt: Runtime) -> list[User]:
    with rt.read() as conn:
        return [User.from_row(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]


def update_user(
    rt: Runtime,
    actor: Actor,
    user_id: str,
    *,
    role: str | Role | None = None,
    display_name: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Change a user's role, display name or disabled state (admin only). Disabling a user ends
    their sessions. An admin may not demote or disable themselves (so an install keeps an admin)."""
    _require_admin(actor)
    values: dict[str, Any] = {}
    if role is not None:
        values["role"] = _role(role).value
    if display_name is not None:
        display = display_name.strip()
        if not display or len(display) > 200:
            raise BadRequest("a display name has 1 to 200 characters")
        values["display_name"] = display
    with rt.write() as (conn, _):
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"user {user_id!r} not found")
        own = actor.kind == "user" and actor.id == user_id
        if own and (disabled or values.get("role", Role.ADMIN.value) != Role.ADMIN.value):
            raise Forbidden("you may not demote or disable your own account")
        if disabled is not None:
            values["disabled_at"] = utcnow() if disabled else None
        if not values:
            return User.from_row(row)
        values["updated_at"] = utcnow()
        conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))
        if disabled:
            end_user_sessions(conn, user_id)
        detail = {k: v for k, v in values.items() if k not in ("updated_at", "disabled_at")}
        if disabled is not None:
            detail["disabled"] = disabled
        record_audit(conn, actor, "user.update", "user", user_id, detail)
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).one()
    return User.from_row(row)


def set_password(rt: Runtime, actor: Actor, user_id: str, password: str, *, current: str | None = None) -> None:
    """Set a user's password: an admin may set anyone's; everyone may change their own by giving
    the ``current`` one. Every session of that user ends."""
    own = actor.kind == "user" and actor.id == user_id
    if not own:
        _require_admin(actor)
    with rt.write() as (conn, _):
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"user {user_id!r} not found")
        if own and (current is None or not _verify(rt, row.password_hash, current)):
            raise Unauthorized("the current password is not correct")
        check_password(password, row.username)
        now = utcnow()
        conn.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(password_hash=hasher_for(rt)[0].hash(password), password_changed_at=now, updated_at=now)
        )
        end_user_sessions(conn, user_id)
        record_audit(conn, actor, "user.password", "user", user_id, {})


def _verify(rt: Runtime, password_hash: str, password: str) -> bool:
    try:
        return hasher_for(rt)[0].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _retry_after(conn: sa.Connection, column: sa.Column[Any], value: str, limit: int, policy: LoginPolicy) -> int:
    """Seconds until a try is allowed again for ``column == value`` (0: allowed now)."""
    since = utcnow() - policy.window
    failures = conn.execute(
        sa.select(login_attempts.c.at)
        .where(column == value, login_attempts.c.at > since, login_attempts.c.ok.is_(False))
        .order_by(login_attempts.c.at.desc())
        .limit(limit)
    ).all()
    if len(failures) < limit:
        return 0
    oldest = failures[-1].at
    return max(1, int((oldest + policy.window - utcnow()).total_seconds()) + 1)


def authenticate_user(rt: Runtime, username: str, password: str, address: str, policy: LoginPolicy) -> User:
    """The active user with this username and password. Unauthorized (one message for every
    reason) or RateLimited (``extra["retry_after"]``) otherwise. Every try is recorded."""
    name = normalise_username(username)[:64]
    address = address[:64]
    with rt.read() as conn:
        wait = max(
            _retry_after(conn, login_attempts.c.username, name, policy.max_failures, policy),
            _retry_after(conn, login_attempts.c.address, address, policy.max_failures_per_address, policy),
        )
        row = conn.execute(sa.select(users).where(users.c.username == name)).first() if name else None
    if wait:
        minutes = max(1, round(wait / 60))
        raise RateLimited(
            f"too many failed sign-ins; try again in about {minutes} minute{'s' if minutes != 1 else ''}",
            extra={"retry_after": wait},
        )
    hasher, dummy = hasher_for(rt)
    ok = _verify(rt, row.password_hash if row is not None else dummy, password[:MAX_PASSWORD])
    ok = ok and row is not None and row.disabled_at is None
    now = utcnow()
    with rt.write() as (conn, _):
        conn.execute(sa.insert(login_attempts).values(username=name, address=address, ok=ok, at=now))
        conn.execute(sa.delete(login_attempts).where(login_attempts.c.at < now - max(policy.window, timedelta(days=1))))
        if ok and row is not None:
            values: dict[str, Any] = {"last_login_at": now}
            if hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = hasher.hash(password)
            conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
    if not ok or row is None:
        raise Unauthorized("wrong username or password")
    return User.from_row(row)


def recent_attempts(rt: Runtime, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sign-in attempts, newest first (for the users page)."""
    with rt.read() as conn:
        rows = conn.execute(sa.select(login_attempts).order_by(login_attempts.c.id.desc()).limit(limit))
        return [{"username": r.username, "address": r.address, "ok": r.ok, "at": r.at} for r in rows]
