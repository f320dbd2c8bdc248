"""The docs are executed: README.md's tour and docs/getting-started.md run command by command, as
printed, in one bash session per page, against a live ``make run`` server on a free port.

Rules, so nothing is hidden: every ```console block is read in order. In a block with ``$`` prompts a
command starts at ``$ `` (continued while a quote is open or the line ends with ``\\``) and the lines
after it, up to the next prompt, are its printed output; in a block without prompts every line is a
command. Only ``127.0.0.1:8000``/``localhost:8000`` (and ``:8001``) are replaced by free ports, and the
session's ``HOME`` is a temporary folder (``cd ~`` stays out of the real one). ``make run`` is its
recipe from the Makefile, started in the background until ``/healthz`` answers; so is ``charter
serve``; ``make test`` is this suite and is not run again. Each command must exit 0; a printed output
must match (as JSON when it parses as JSON, else as text); a command printed without output must not
answer with a problem document. Each page gets its own fresh demo data (``CHARTER_DEMO_DATA``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.services import free_port, unavailable

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "docs" / "getting-started.md"]
BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
SERVERS = re.compile(r"^(make run\b|(\S*/)?charter serve\b)")


@dataclass
class Step:
    command: str
    output: list[str] = field(default_factory=list)
    #: whether the page printed the output (prompt blocks) or shows no output at all
    shown: bool = False


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def steps(page: Path) -> list[Step]:
    found: list[Step] = []
    for block in BLOCK.findall(page.read_text(encoding="utf-8")):
        lines = block.splitlines()
        prompted = any(line.startswith("$ ") for line in lines)
        current: Step | None = None
        for line in lines:
            if current is not None and not _complete(current.command):
                current.command += "\n" + line
            elif prompted and not line.startswith("$ "):
                if current is not None and line.strip():
                    current.output.append(line)
            elif line.strip():
                current = Step(line[2:] if prompted else line, shown=prompted)
                found.append(current)
    return found


def _port_map(ports: dict[str, int]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(rf"(127\.0\.0\.1|localhost):{doc}\b"), f"127.0.0.1:{live}") for doc, live in ports.items()]


def make_run_recipe() -> str:
    """The command ``make run`` runs, read from the Makefile (its variables expanded)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", text, re.M)
    assert recipe, "no run target in the Makefile"
    line = recipe.group(1).strip().splitlines()[-1].strip()
    variables = {"BIN": ".venv/bin", "HOST": "127.0.0.1", "PORT": "8000"}
    return re.sub(r"\$\((\w+)\)", lambda m: variables[m.group(1)], line)


class Session:
    """One bash process per page: variables and the working folder carry from step to step."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.servers: list[str] = []

    def run(self, command: str, timeout: float = 120) -> tuple[int, str]:
        marker = f"__step_{uuid.uuid4().hex}__"
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{command}\necho; echo {marker} $?\n")
        self.proc.stdin.flush()
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"the shell ended during {command!r}: {''.join(lines)}")
            if line.startswith(marker):
                out = "".join(lines)
                return int(line.split()[1]), out[:-1] if out.endswith("\n") else out
            lines.append(line)
        raise AssertionError(f"{command!r} did not finish in {timeout} s")

    def serve(self, command: str, port: int) -> None:
        """Start a server command in the background and wait until it answers."""
        name = f"server{len(self.servers)}"
        # In a session of its own, so close() ends the server and its children by their group id.
        out = f"{self.log}.{name}"
        self.run(f"setsid bash -c {shlex.quote(command)} > {out} 2>&1 < /dev/null & echo $! > {out}.pid")
        self.servers.append(name)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise AssertionError(f"{command!r} did not answer in 180 s: {self.server_log(name)[-3000:]}")

    def server_log(self, name: str) -> str:
        return Path(f"{self.log}.{name}").read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        for name in self.servers:
            group = int(Path(f"{self.log}.{name}.pid").read_text().strip())
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _matches(expected: list[str], actual: str) -> bool:
    text = "\n".join(expected).strip()
    try:
        return json.loads(text) == json.loads(actual)
    except ValueError:
        return text == actual.strip()


def _problem(output: str) -> bool:
    try:
        body = json.loads(output)
    except ValueError:
        return False
    return isinstance(body, dict) and str(body.get("type", "")).startswith("https://charter.dev/problems/")


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_page_runs_as_printed(page: Path, tmp_path: Path) -> None:
    if not shutil.which("jq"):
        unavailable("jq", "the tour pipes answers through jq (apt-get install jq)")
    ports = {"8000": free_port(), "8001": free_port()}
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHARTER_") and k != "VIRTUAL_ENV"},
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "CHARTER_DEMO_DATA": str(tmp_path / "demo-data"),
        "CHARTER_LOG_LEVEL": "WARNING",
    }
    session = Session(env, tmp_path / "session")
    try:
        for step in steps(page):
            command = step.command
            for pattern, live in _port_map(ports):
                command = pattern.sub(live, command)
            head = command.split("#", 1)[0].strip()
            if head == "make test":
                continue  # this suite
            if SERVERS.match(head):
                if head.startswith("make run"):
                    command = make_run_recipe()
                port = re.search(r"--port (\d+)", command)
                assert port and port.group(1) in ports, f"{page.name}: `{step.command}` needs --port 8000 or 8001"
                command = command.replace(port.group(0), f"--port {ports[port.group(1)]}")
                session.serve(command, ports[port.group(1)])
                continue
            code, output = session.run(command)
            assert code == 0, f"{page.name}: `{step.command}` exited {code}:\n{output}"
            if step.output:
                assert _matches(step.output, output), (
                    f"{page.name}: `{step.command}` printed\n{output}\nbut the page shows\n" + "\n".join(step.output)
                )
            else:
                assert not _problem(output), f"{page.name}: `{step.command}` answered a problem:\n{output}"
        for name in session.servers:
            log = session.server_log(name)
            assert "Building index" not in log, f"start-up noise in {name}:\n{log[-2000:]}"
    finally:
        session.close()


def test_the_parser_reads_prompts_continuations_and_outputs(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```console\n$ A=$(echo 1)\n$ curl -s x \\\n    -d '{\"a\":\n  1}' | jq .a\n1\n$ echo done\ndone\n```\n"
        "```console\nmake run     # a comment\ncurl -s y\n```\n```python\nprint(1)\n```\n",
        encoding="utf-8",
    )
    found = steps(page)
    assert [s.command for s in found] == [
        "A=$(echo 1)",
        "curl -s x \\\n    -d '{\"a\":\n  1}' | jq .a",
        "echo done",
        "make run     # a comment",
        "curl -s y",
    ]
    assert [s.output for s in found] == [[], ["1"], ["done"], [], []]
    assert SERVERS.match("charter serve --port 8001") and SERVERS.match(".venv/bin/charter serve --demo")
    assert make_run_recipe().startswith(".venv/bin/charter serve --demo --host 127.0.0.1 --port 8000")
