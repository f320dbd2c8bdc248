"""The example front end (examples/frontend) built and served on loopback, as its README says:
the typed client generated into ``client/``, the demo's token CSS as ``tokens.css``, then any
static file server (here Python's, in a thread)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "frontend"


def build_example(dest: Path, project: Path) -> Path:
    """Copy the example to ``dest`` and build what it needs from ``project`` (a copy of the demo)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("client", "tokens.css", "README.md", "*.yaml"))
    charter = [sys.executable, "-m", "charter"]
    for args in (
        ["types", "generate", "--project", str(project), "--package", "lumen-content", "--out", str(dest / "client")],
        ["tokens", "build", str(project / "tokens"), "--out", str(dest / ".tokens")],
    ):
        run = subprocess.run([*charter, *args], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
    shutil.copy(dest / ".tokens" / "css" / "lumen-global-light.css", dest / "tokens.css")
    shutil.rmtree(dest / ".tokens")
    return dest


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()


@contextmanager
def static_server(root: Path, port: int) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1:``port``; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    _Quiet.extensions_map = {**_Quiet.extensions_map, ".js": "text/javascript", ".mjs": "text/javascript"}
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="example-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
