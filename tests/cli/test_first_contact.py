"""First contact (issue 23): a new project of one's own, the secret key, finding the project from any
folder, the demo's one data folder, a busy port, and `charter users create` without a terminal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from charter.config import DEV_SECRET_KEY, SECRET_FILE, demo_data_dir, load_settings
from tests.cli.test_foundation_cli import charter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CHARTER_PROJECT", "CHARTER_SECRET_KEY", "CHARTER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = charter(capsys, "init", str(tmp_path / "mysite"))
    assert code == 0, err
    assert "'mysite'" in out and "charter.secret.toml" in out
    return tmp_path / "mysite"


def test_init_makes_a_clean_project_of_its_own(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = (site / "charter.toml").read_text(encoding="utf-8")
    config = tomllib.loads(toml)["charter"]
    assert config["name"] == "mysite" and "Lumen" not in toml and "demo" not in toml.lower()
    assert "types" not in config["workflow"]  # no demo gates: no two-approval pricing plans or legal texts
    settings = load_settings(site)
    assert settings.name == "mysite" and not settings.has_dev_secret and len(settings.secret_key) >= 40
    assert settings.workflow.get("types") is None
    assert SECRET_FILE in (site / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert (site / SECRET_FILE).stat().st_mode & 0o077 == 0  # readable by its owner only
    # /v1/ask answers with a registry prompt of the scaffold (docs/retrieval.md#the-answer-prompt).
    assert "prompt: answer@1.0.0" in (site / "retrieval.yaml").read_text(encoding="utf-8")
    assert "1.0.0:" in (site / "prompts" / "answer.yaml").read_text(encoding="utf-8")
    other = load_settings(charter_init(capsys, site.parent / "other"))
    assert other.secret_key != settings.secret_key  # random per project
    assert charter(capsys, "init", str(site), "--force")[0] == 0
    assert load_settings(site).secret_key == settings.secret_key  # --force keeps the key (sessions survive)


def charter_init(capsys: pytest.CaptureFixture[str], target: Path) -> Path:
    assert charter(capsys, "init", str(target))[0] == 0
    return target


def test_init_adds_to_an_existing_gitignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".gitignore").write_text("node_modules/\n.charter/\n", encoding="utf-8")
    charter_init(capsys, tmp_path / "x")
    lines = (tmp_path / "x" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["node_modules/", ".charter/"] and lines.count(".charter/") == 1 and SECRET_FILE in lines


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_the_development_key_outside_the_demo(
    site: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / SECRET_FILE).unlink()
    code, _, err = charter(capsys, command, "--project", str(site))
    assert code == 1
    assert "public development key" in err and "CHARTER_SECRET_KEY" in err and SECRET_FILE in err
    assert "secrets.token_urlsafe" in err  # says how to make one
    assert not (site / ".charter").exists()  # refused before anything was opened


def test_a_secret_in_the_environment_is_enough(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (site / SECRET_FILE).unlink()
    assert load_settings(site).secret_key == DEV_SECRET_KEY
    monkeypatch.setenv("CHARTER_SECRET_KEY", "from-the-environment-0123456789")
    assert load_settings(site).secret_key == "from-the-environment-0123456789"


def test_commands_find_the_project_from_a_subfolder_or_say_there_is_none(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site / "content-types")
    code, out, err = charter(capsys, "tokens", "create", "--role", "admin", "--name", "me")
    assert code == 0 and out.startswith("chr_"), err
    assert (site / ".charter" / "charter.db").exists() and not (site / "content-types" / ".charter").exists()
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    code, _, err = charter(capsys, "tokens", "list")
    assert code == 1 and "no Charter project here" in err and "charter init" in err and "--project" in err
    assert not (nowhere / ".charter").exists()
    monkeypatch.setenv("CHARTER_PROJECT", str(site))
    code, out, _ = charter(capsys, "tokens", "list")
    assert code == 0 and "me" in out


def test_the_demo_keeps_its_data_in_one_place_whatever_the_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHARTER_DEMO_DATA")
    assert demo_data_dir() == ROOT / ".charter-demo"  # a checkout: beside `make run`'s .venv
    for folder in (ROOT, ROOT / "docs", Path("/")):
        monkeypatch.chdir(folder)
        assert load_settings(demo=True).resolved_database_url() == f"sqlite:///{ROOT / '.charter-demo' / 'charter.db'}"
    monkeypatch.setenv("CHARTER_DEMO_DATA", "/srv/demo")
    assert demo_data_dir() == Path("/srv/demo")


def test_a_busy_port_is_reported_before_start_up(capsys: pytest.CaptureFixture[str], demo_data: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = charter(capsys, "serve", "--demo", "--port", str(port))
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert not (demo_data / "charter.db").exists()  # nothing was started


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "charter", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
        check=False,
    )


def test_users_create_works_without_a_terminal(demo_data: Path) -> None:
    generated = run_cli("users", "create", "--demo", "me", "--role", "publisher")
    assert generated.returncode == 0, generated.stderr
    password = generated.stdout.strip()
    assert len(password) >= 16 and "shown only once" in generated.stderr
    piped = run_cli("users", "create", "--demo", "ann", "--role", "editor", stdin="a-long-password-1\n")
    assert piped.returncode == 0 and piped.stdout == "", piped.stderr
    from_env = run_cli("users", "create", "--demo", "bo", env={"CHARTER_PASSWORD": "another-password-2"})
    assert from_env.returncode == 0 and from_env.stdout == "", from_env.stderr
    short = run_cli("users", "create", "--demo", "cy", stdin="short\n")
    assert short.returncode == 1 and "10 characters" in short.stderr
    no_tty = run_cli("users", "set-password", "--demo", "me")
    assert no_tty.returncode == 1 and "CHARTER_PASSWORD" in no_tty.stderr

    from charter.auth.users import LoginPolicy, authenticate_user
    from charter.runtime import Runtime

    rt = Runtime.open(load_settings(demo=True, worker=False))
    try:
        for username, secret in [("me", password), ("ann", "a-long-password-1"), ("bo", "another-password-2")]:
            assert authenticate_user(rt, username, secret, "127.0.0.1", LoginPolicy()).username == username
    finally:
        rt.close()


@pytest.mark.slow
def test_charter_ci_passes_on_a_fresh_project(site: Path) -> None:
    ci = subprocess.run(
        [sys.executable, "-m", "charter", "ci"],
        cwd=site,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        timeout=600,
        check=False,
    )
    assert ci.returncode == 0, ci.stdout + ci.stderr
    assert "all gates passed" in ci.stdout
    assert "budgets.yaml not measured: give --dist, --api and/or --url" in ci.stdout  # skipped, with the reason
