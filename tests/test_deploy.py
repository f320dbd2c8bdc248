"""The production layout in deploy/ (docs/deploy.md), checked as far as this machine allows: it has
no container runtime (a docker client, no daemon, no compose plugin), so nothing is built or
started here. The compose file is parsed and its services, dependencies, volumes, network and
environment checked; every command a container or unit runs is parsed by Charter's own CLI (an
unknown option or command fails); the Containerfiles' instructions and copied paths are checked;
the systemd units parse. tests/faults/test_multi_instance.py runs the same layout as processes."""

from __future__ import annotations

import configparser
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer._click import exceptions as click_exceptions  # typer 0.29 runs on a vendored click

from charter.cli.main import _build
from charter.config import _ENV_KEYS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
#: Variables Charter reads besides the settings' own (config._ENV_KEYS).
OTHER_ENV = {"CHARTER_PROJECT"}


def parse_charter(argv: list[str]) -> None:
    """Parse ``charter ARGV`` as the CLI would, without running it (click raises on a bad option)."""
    assert argv[0].endswith("charter"), argv
    command: Any = typer.main.get_command(_build())
    ctx = command.make_context("charter", list(argv[1:]), resilient_parsing=False)
    while hasattr(command, "get_command") and ctx._protected_args:
        name, *rest = [*ctx._protected_args, *ctx.args]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"no command {name!r} in {argv}"
        command, ctx = sub, sub.make_context(name, rest, parent=ctx, resilient_parsing=False)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def test_compose_has_the_layout(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "charter1", "charter2", "charter3", "worker", "edge-vcl", "varnish"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    for name, service in services.items():
        for dep, condition in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}
            if condition["condition"] == "service_healthy":
                assert services[dep].get("healthcheck", {}).get("disable") is not True or dep.startswith("charter")
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(("${", "./", "/")) or source in compose["volumes"], volume
        for net in service.get("networks", []):
            assert net in compose["networks"]
    # Only the first instance migrates; the others and the workers wait for it.
    assert set(services["charter1"]["depends_on"]) == {"postgres", "redis"}
    for name in ("charter2", "charter3", "worker"):
        assert set(services[name]["depends_on"]) == {"charter1"}
    assert services["varnish"]["ports"] == ["80:80"]


def test_every_charter_command_in_compose_parses(compose: dict[str, Any]) -> None:
    commands = [s["command"] for s in compose["services"].values() if s.get("image") == "charter:latest"]
    assert len(commands) == 5  # 3 instances, the worker, the VCL writer
    for command in commands:
        parse_charter(command)
    with pytest.raises(click_exceptions.UsageError):
        parse_charter(["charter", "serve", "--no-such-option"])
    with pytest.raises(click_exceptions.UsageError):
        parse_charter(["charter", "edge", "varnish", "--backend"])
    with pytest.raises(AssertionError, match="no command"):
        parse_charter(["charter", "edge", "squid"])


def test_compose_environment_names_real_settings(compose: dict[str, Any]) -> None:
    env = compose["services"]["charter1"]["environment"]
    known = set(_ENV_KEYS.values()) | OTHER_ENV
    assert set(env) <= known, set(env) - known
    assert env["CHARTER_CACHE"] == "redis" and "CHARTER_WORKER" not in env  # instances keep their worker
    assert env["CHARTER_DATABASE_URL"].startswith("postgresql+psycopg://")
    subnet = compose["networks"]["charter"]["ipam"]["config"][0]["subnet"]
    vcl = compose["services"]["edge-vcl"]["command"]
    assert vcl[vcl.index("--purger") + 1] == subnet == env["CHARTER_FORWARDED_ALLOW_IPS"]
    assert [vcl[i + 1] for i, a in enumerate(vcl) if a == "--backend"] == [
        "charter1:8000",
        "charter2:8000",
        "charter3:8000",
    ]


def _instructions(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", ["Containerfile", "varnish.Containerfile"])
def test_containerfiles(name: str) -> None:
    steps = _instructions(DEPLOY / name)
    allowed = {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    assert steps[0][0] == "FROM" and {k for k, _ in steps} <= allowed
    cmd = json.loads(next(rest for k, rest in steps if k == "CMD"))
    if name == "Containerfile":
        parse_charter(cmd)
        for keyword, rest in steps:
            if keyword == "COPY":
                *sources, _target = rest.split()
                for source in sources:
                    assert (ROOT / source).exists(), source
        assert ("USER", "charter") in steps  # not root
    else:
        assert cmd[0] == "varnishd" and "-F" in cmd
        assert "varnish-modules" in next(rest for k, rest in steps if k == "RUN")


@pytest.mark.parametrize("unit", ["charter@.service", "charter-worker@.service"])
def test_systemd_units(unit: str) -> None:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / unit)
    assert set(parser.sections()) == {"Unit", "Service", "Install"}
    service = parser["Service"]
    argv = shlex.split(service["ExecStart"].replace("%i", "8001"))
    parse_charter(argv)
    assert service["User"] == "charter" and service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
