"""Users and sessions as library functions, and ``charter users`` as a user runs it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter.auth.roles import SYSTEM, Actor, Role
from charter.auth.sessions import SessionPolicy, end_session, load_session, start_session
from charter.auth.users import (
    LoginPolicy,
    authenticate_user,
    create_user,
    find_user,
    set_password,
    update_user,
    users,
)
from charter.exceptions import BadRequest, Conflict, Forbidden, RateLimited, Unauthorized
from charter.runtime import Runtime

BAD_USERS = [
    ("A", "long-enough-pw", "username is 2 to 64"),
    ("has space", "long-enough-pw", "username is 2 to 64"),
    ("ok-name", "short", "at least 10"),
    ("same-as-pw1", "same-as-pw1", "may not be the username"),
    ("ok-name", "x" * 1025, "at most 1024"),
]


def test_bad_users_are_refused(runtime: Runtime) -> None:
    for username, password, message in BAD_USERS:
        with pytest.raises(BadRequest, match=message):
            create_user(runtime, SYSTEM, username, password, "editor")


def test_create_authenticate_and_hash(runtime: Runtime) -> None:
    user = create_user(runtime, SYSTEM, "Ana.Lind", "a long passphrase", "publisher", "Ana Lind")
    assert user.username == "ana.lind" and user.role is Role.PUBLISHER and user.actor.kind == "user"
    with pytest.raises(Conflict):
        create_user(runtime, SYSTEM, "ana.lind", "another passphrase", "viewer")
    with pytest.raises(BadRequest, match="unknown role"):
        create_user(runtime, SYSTEM, "bob", "a long passphrase", "owner")
    with pytest.raises(Forbidden):
        create_user(runtime, Actor("ed", Role.EDITOR), "eve", "a long passphrase", "admin")
    with runtime.read() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    policy = LoginPolicy()
    assert authenticate_user(runtime, "ANA.LIND ", "a long passphrase", "10.0.0.1", policy).id == user.id
    with pytest.raises(Unauthorized, match="wrong username or password"):
        authenticate_user(runtime, "ana.lind", "A long passphrase", "10.0.0.1", policy)
    update_user(runtime, SYSTEM, user.id, disabled=True)
    with pytest.raises(Unauthorized, match="wrong username or password"):  # disabled: the same answer
        authenticate_user(runtime, "ana.lind", "a long passphrase", "10.0.0.1", policy)


def test_throttling_by_username_and_by_address(runtime: Runtime) -> None:
    create_user(runtime, SYSTEM, "carla", "a long passphrase", "editor")
    policy = LoginPolicy(max_failures=3, max_failures_per_address=5)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            authenticate_user(runtime, "carla", "wrong-wrong", "10.0.0.2", policy)
    with pytest.raises(RateLimited) as exc:
        authenticate_user(runtime, "carla", "a long passphrase", "10.0.0.9", policy)
    assert 0 < exc.value.extra["retry_after"] <= 15 * 60 + 1
    for name in ("u1", "u2"):  # two more failures from the same address, other names
        with pytest.raises(Unauthorized):
            authenticate_user(runtime, name, "wrong-wrong", "10.0.0.2", policy)
    with pytest.raises(RateLimited):  # the address has used its five
        authenticate_user(runtime, "someone", "x", "10.0.0.2", policy)


def test_sessions_expire_end_and_follow_the_user(runtime: Runtime) -> None:
    user = create_user(runtime, SYSTEM, "dana", "a long passphrase", "admin")
    policy = SessionPolicy()
    token = start_session(runtime, user, address="127.0.0.1", user_agent="pytest", policy=policy)
    found = load_session(runtime, token, policy)
    assert found.status == "ok" and found.session is not None and found.session.user.id == user.id
    assert len(found.session.csrf_token) >= 40
    assert load_session(runtime, token + "x", policy).status == "unknown"
    assert load_session(runtime, None, policy).status == "unknown"
    from datetime import timedelta

    assert load_session(runtime, token, SessionPolicy(idle=timedelta(0))).status == "expired"
    end_session(runtime, token)
    assert load_session(runtime, token, policy).status == "expired"
    token = start_session(runtime, user, policy=policy)
    set_password(runtime, SYSTEM, user.id, "another passphrase")
    assert load_session(runtime, token, policy).status == "expired"  # a password change ends sessions
    with pytest.raises(Forbidden, match="your own account"):
        update_user(runtime, user.actor, user.id, role="editor")
    with pytest.raises(Unauthorized):
        set_password(runtime, user.actor, user.id, "third passphrase", current="wrong")
    set_password(runtime, user.actor, user.id, "third passphrase", current="another passphrase")


FAST_TOML = """
[charter.admin.password_hash]
time_cost = 1
memory_cost = 1024
parallelism = 1
"""


def _run(
    project: Path,
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """``charter users ...`` in process, through the same error handling as the real entry point."""
    from charter.cli.commands.users import app
    from charter.cli.errors import run_cli

    monkeypatch.setenv("CHARTER_DATABASE_URL", db)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        run_cli(app, [*args, "--project", str(project)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_users(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project_dir / "charter.toml").write_text((project_dir / "charter.toml").read_text() + FAST_TOML)
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        return _run(project_dir, db, monkeypatch, capsys, *args, stdin=stdin)

    code, _, err = run(
        "create", "erin", "--role", "publisher", "--name", "Erin", "--password-stdin", stdin="a long passphrase\n"
    )
    assert code == 0 and "created publisher user 'erin'" in err, err
    code, _, err = run("create", "erin", "--password-stdin", stdin="a long passphrase\n")
    assert code == 1 and "already exists" in err
    code, _, err = run("create", "fred", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 10 characters" in err
    code, out, err = run("create", "gil")  # no terminal, nothing piped: a generated password, printed once
    assert code == 0 and len(out.strip()) == 16 and "shown only once" in err, err
    generated = out.strip()
    code, _, err = run("set-password", "gil")  # set-password never invents one
    assert code == 1 and "CHARTER_PASSWORD" in err
    code, _, err = run("create", "fred", "--role", "owner", "--password-stdin", stdin="a long passphrase\n")
    assert code == 1 and "unknown role" in err
    code, _, err = run("set-role", "erin", "viewer")
    assert code == 0 and "erin is now viewer" in err
    code, _, err = run("disable", "nobody")
    assert code == 1 and "no user named 'nobody'" in err
    code, _, err = run("set-password", "erin", "--password-stdin", stdin="a newer passphrase\n")
    assert code == 0 and "sessions ended" in err
    code, out, _ = run("list")
    assert code == 0 and "erin" in out and "viewer" in out
    from charter.config import load_settings

    rt = Runtime.open(load_settings(project_dir, database_url=db))
    try:
        erin = find_user(rt, "erin")
        assert erin is not None and erin.role is Role.VIEWER
        assert authenticate_user(rt, "erin", "a newer passphrase", "cli", LoginPolicy()).id == erin.id
        assert authenticate_user(rt, "gil", generated, "cli", LoginPolicy()).username == "gil"
    finally:
        rt.close()


@pytest.mark.slow
def test_the_real_command_line(project_dir: Path, tmp_path: Path) -> None:
    (project_dir / "charter.toml").write_text((project_dir / "charter.toml").read_text() + FAST_TOML)
    env = {**os.environ, "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHARTER_LOG_LEVEL": "WARNING"}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "charter",
            "users",
            "create",
            "gina",
            "--role",
            "admin",
            "--password-stdin",
            "--project",
            str(project_dir),
        ],
        input="a long passphrase\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0 and "created admin user 'gina'" in r.stderr, r.stderr
