"""Run charter.observability.receiver as a separate process on free loopback ports."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Receiver:
    def __init__(self, proc: subprocess.Popen[str], http_port: int, grpc_port: int) -> None:
        self.proc = proc
        self.http_port = http_port
        self.grpc_port = grpc_port

    def endpoint(self, protocol: str) -> str:
        return f"http://127.0.0.1:{self.grpc_port if protocol == 'grpc' else self.http_port}"

    def received(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/received", timeout=5) as r:
            data: dict[str, Any] = json.load(r)
            return data

    def wait_for(self, found: Callable[[dict[str, Any]], bool], seconds: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            got = self.received()
            if found(got) or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@contextmanager
def otlp_receiver(delay: float = 0.0) -> Iterator[Receiver]:
    """A receiver process (HTTP and gRPC) for the length of the block."""
    args = [sys.executable, "-m", "charter.observability.receiver", "--http-port", "0", "--grpc-port", "0"]
    proc = subprocess.Popen([*args, "--delay", str(delay)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        parts = dict(p.split("=") for p in line.split()[1:])
        receiver = Receiver(proc, int(parts["http"]), int(parts["grpc"]))
        yield receiver
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
