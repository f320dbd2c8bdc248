"""A webhook receiver on loopback that verifies Standard Webhooks signatures and can misbehave.

In a thread (``Receiver``) for the webhook tests, or as a process for the fault tests::

    python -m tests.webhooks.receiver --port 23456 --secret whsec_... --fail-rate 0.3 --log out.jsonl

Every request is recorded (one JSON line per request when ``--log`` is given): the webhook-id,
whether the signature verified, the status answered, and the parsed body.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(
        self, port: int, secret: str = "", *, status: int = 200, fail_rate: float = 0.0, seed: int = 0
    ) -> None:
        self.port = port
        self.secret = secret
        self.status = status
        self.fail_rate = fail_rate
        self.random = random.Random(seed)
        self.requests: list[dict[str, Any]] = []
        #: What the receiver answers with (the body and extra headers), to test what Charter keeps.
        self.reply_body = b"ok"
        self.reply_headers: dict[str, str] = {}
        self.log_file: Any = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handle(self, headers: dict[str, str], raw: bytes) -> int:
        valid = False
        body: Any = None
        error = None
        try:
            body = Webhook(self.secret).verify(raw, headers) if self.secret else json.loads(raw)
            valid = bool(self.secret)
        except (WebhookVerificationError, ValueError) as exc:
            error = str(exc)
        with self._lock:
            status = self.status
            if status < 300 and self.fail_rate and self.random.random() < self.fail_rate:
                status = 503
            record = {
                "id": headers.get("webhook-id"),
                "valid": valid,
                "status": status,
                "body": body,
                "error": error,
                "traceparent": headers.get("traceparent"),
            }
            self.requests.append(record)
            if self.log_file is not None:
                self.log_file.write(json.dumps(record) + "\n")
                self.log_file.flush()
        return status

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # The sender died mid-request (the fault tests kill -9 the worker): an HTTP server
                    # drops a request whose body never arrived whole; it is not a delivery.
                    self.close_connection = True
                    return
                status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, raw)
                self.send_response(status)
                for name, value in receiver.reply_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(receiver.reply_body)))
                self.end_headers()
                self.wfile.write(receiver.reply_body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def received(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if event_type is None or (r["body"] or {}).get("type") == event_type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    receiver = Receiver(args.port, args.secret, fail_rate=args.fail_rate, seed=args.seed)
    with open(args.log, "a", encoding="utf-8") as fh:
        receiver.log_file = fh
        receiver.start()
        print("listening", flush=True)
        assert receiver._thread is not None
        receiver._thread.join()


if __name__ == "__main__":
    main()
