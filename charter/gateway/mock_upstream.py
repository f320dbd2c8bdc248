"""A mock LLM upstream on loopback: OpenAI ``/v1/chat/completions`` (JSON and SSE) and Anthropic
``/v1/messages``, with scripted faults. Used by the gateway tests and the benchmark; a real HTTP/1.1
server (keep-alive, content-length bodies), small enough to never be the bottleneck.

Faults (``MockUpstream.mode``): ``ok``, ``status:<code>`` (e.g. ``status:503``), ``hang`` (never
answers), ``malformed`` (invalid JSON body), ``wrong_shape`` (valid JSON that is not a completion),
``truncate`` (a stream that stops mid-way, or a body cut short), ``truncate:<n>`` (a stream cut
after its first ``n`` events; ``truncate:1`` sends only the leading role chunk), ``stall`` (a
stream that sends half its events and then goes silent without closing), ``drop`` (close the
connection without answering), ``echo_auth`` (a 500 whose body repeats the credentials it got,
like a careless upstream). ``fail_first`` applies the fault to the first N requests only, then
answers normally; ``delay`` (seconds) holds every answer back.

Tool calls: ``tool_calls`` is a list of answers, each a list of ``{"name", "arguments"}`` (arguments a
JSON string), consumed in order (``tool_call`` answers every request with the same call once the
list is used up); such an answer has the calls and finish reason ``tool_calls``, streamed as two
fragments per call (the id and name, then the arguments) like OpenAI.

Embeddings: ``/v1/embeddings`` answers one deterministic vector per input (``dimensions`` long,
default 8, derived from a hash of the input), with the same faults.

Run standalone: ``python -m charter.gateway.mock_upstream --port 18080``.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

ANSWER = "Mock answer from the upstream."


@dataclass
class MockUpstream:
    port: int
    mode: str = "ok"
    fail_first: int | None = None
    answer: str = ANSWER
    answers: list[str] = field(default_factory=list)  # consumed in order before ``answer``
    tool_calls: list[list[dict[str, str]]] = field(default_factory=list)  # consumed in order
    tool_call: dict[str, str] | None = None  # every answer calls this tool once tool_calls is used up
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    record: bool = True
    delay: float = 0.0
    hold: threading.Event | None = None  # every answer waits until it is set (a test's cue)
    close_after: bool = False  # close the connection after each answer (no keep-alive)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.AbstractServer | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._server = await loop.create_server(lambda: _Protocol(self), "127.0.0.1", self.port, backlog=1024)
        await self._server.serve_forever()

    def start_in_thread(self) -> MockUpstream:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                self._server = await loop.create_server(lambda: _Protocol(self), "127.0.0.1", self.port)
                ready.set()
                try:
                    await self._server.serve_forever()
                except asyncio.CancelledError:
                    pass

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name=f"mock-upstream-{self.port}")
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop and self._thread:
            server = self._server

            def cancel() -> None:
                if server is not None:
                    server.close()
                for task in asyncio.all_tasks(self._loop):
                    task.cancel()

            self._loop.call_soon_threadsafe(cancel)
            self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- behaviour ---------------------------------------------------------------------------
    def fault(self) -> str:
        n = len(self.requests)
        if self.fail_first is not None and n > self.fail_first:
            return "ok"
        return self.mode

    def next_answer(self) -> str:
        return self.answers.pop(0) if self.answers else self.answer

    def next_tool_calls(self) -> list[dict[str, Any]]:
        calls = self.tool_calls.pop(0) if self.tool_calls else ([self.tool_call] if self.tool_call else [])
        return [
            {"id": f"call_mock_{i}", "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for i, c in enumerate(calls)
        ]


class _Protocol(asyncio.Protocol):
    def __init__(self, upstream: MockUpstream) -> None:
        self.up = upstream
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < head_end + 4 + length:
                return
            body = self.buf[head_end + 4 : head_end + 4 + length]
            self.buf = self.buf[head_end + 4 + length :]
            self.handle(method, path, headers, body)

    def send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        assert self.transport is not None
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests"}.get(status, "Error")
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
            f"{'retry-after: 0' + chr(13) + chr(10) if status == 429 else ''}\r\n".encode()
            + body
        )
        if self.up.close_after:
            self.transport.close()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        up = self.up
        try:
            req = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            req = {}
        if up.record:
            up.requests.append(req)
            up.headers_seen.append(headers)
        fault = up.fault()
        if up.hold is not None and fault != "hang":
            waited = asyncio.get_running_loop().run_in_executor(None, up.hold.wait, 30)
            waited.add_done_callback(lambda _: self.answer(fault, path, headers, req))
        elif up.delay and fault != "hang":
            asyncio.get_running_loop().call_later(up.delay, self.answer, fault, path, headers, req)
        else:
            self.answer(fault, path, headers, req)

    def answer(self, fault: str, path: str, headers: dict[str, str], req: dict[str, Any]) -> None:
        up = self.up
        if self.transport is None or self.transport.is_closing() or fault == "hang":
            return
        if fault == "drop":
            self.transport.close()
            return
        if fault.startswith("status:"):
            code = int(fault.split(":")[1])
            self.send(code, orjson.dumps({"error": {"message": f"mock failure {code}", "type": "server_error"}}))
            return
        if fault == "echo_auth":
            seen = headers.get("authorization") or headers.get("x-api-key") or headers.get("api-key") or ""
            self.send(500, orjson.dumps({"error": {"message": f"bad credentials {seen}", "type": "server_error"}}))
            return
        if fault == "malformed":
            self.send(200, b'{"choices": [ {"message": ')
            return
        if fault == "wrong_shape":
            self.send(200, b'{"choices": "none", "content": 5}')
            return
        if path.startswith("/v1/embeddings"):
            self.send(200, orjson.dumps(embeddings(req)))
            return
        anthropic = path.startswith("/v1/messages")
        stream = bool(req.get("stream"))
        calls = [] if anthropic else up.next_tool_calls()
        text = "" if calls else up.next_answer()
        if stream:
            self.stream(text, anthropic, fault, model=str(req.get("model", "mock")), calls=calls)
            return
        if fault.startswith("truncate"):
            cut = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"id'
            self.transport.write(cut)
            self.transport.close()
            return
        if anthropic:
            out = {
                "id": "msg_mock",
                "type": "message",
                "role": "assistant",
                "model": req.get("model", "mock"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 10, "output_tokens": len(text.split())},
            }
        else:
            out = {
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "created": 0,
                "model": req.get("model", "mock"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text or None, "tool_calls": calls}
                        if calls
                        else {"role": "assistant", "content": text},
                        "finish_reason": "tool_calls" if calls else "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 0},
            }
        self.send(200, orjson.dumps(out))

    def stream(
        self, text: str, anthropic: bool, fault: str, model: str, calls: list[dict[str, Any]] | None = None
    ) -> None:
        assert self.transport is not None
        words = text.split(" ") if text else []
        events: list[bytes] = []
        if anthropic:
            events.append(orjson.dumps({"type": "message_start", "message": {"usage": {"input_tokens": 10}}}))
            for i, w in enumerate(words):
                events.append(
                    orjson.dumps(
                        {
                            "type": "content_block_delta",
                            "index": 0,
                            "delta": {"type": "text_delta", "text": w if i == 0 else " " + w},
                        }
                    )
                )
            events.append(
                orjson.dumps(
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn"},
                        "usage": {"output_tokens": len(words)},
                    }
                )
            )
            events.append(orjson.dumps({"type": "message_stop"}))
        else:
            # Like OpenAI: a leading chunk with the role and no content.
            events.append(
                orjson.dumps(
                    {
                        "id": "c",
                        "object": "chat.completion.chunk",
                        "model": model,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
                    }
                )
            )
            for i, w in enumerate(words):
                events.append(
                    orjson.dumps(
                        {
                            "id": "c",
                            "object": "chat.completion.chunk",
                            "model": model,
                            "choices": [
                                {"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}
                            ],
                        }
                    )
                )
            for i, call in enumerate(calls or []):
                fn = call["function"]
                for piece in (
                    {
                        "index": i,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": fn["name"], "arguments": ""},
                    },
                    {"index": i, "function": {"arguments": fn["arguments"]}},
                ):
                    events.append(
                        orjson.dumps(
                            {
                                "id": "c",
                                "object": "chat.completion.chunk",
                                "model": model,
                                "choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}],
                            }
                        )
                    )
            events.append(
                orjson.dumps(
                    {
                        "id": "c",
                        "object": "chat.completion.chunk",
                        "model": model,
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if calls else "stop"}],
                    }
                )
            )
            events.append(
                orjson.dumps(
                    {
                        "id": "c",
                        "object": "chat.completion.chunk",
                        "model": model,
                        "choices": [],
                        "usage": {"prompt_tokens": 10, "completion_tokens": len(words)},
                    }
                )
            )
            events.append(b"[DONE]")
        cut = fault.startswith("truncate") or fault == "stall"
        if fault.startswith("truncate:"):
            events = events[: int(fault.split(":")[1])]
        elif cut:
            events = events[: max(1, len(events) // 2)]
        payload = b"".join(b"data: " + e + b"\n\n" for e in events)
        # Chunked transfer encoding (RFC 9112 §7.1): one chunk, then the terminator unless cut.
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            + f"{len(payload):x}\r\n".encode()
            + payload
            + b"\r\n"
        )
        if fault == "stall":
            return  # keep the connection open and say nothing more
        if cut:
            self.transport.close()
        else:
            self.transport.write(b"0\r\n\r\n")


def embeddings(req: dict[str, Any]) -> dict[str, Any]:
    """The mock's ``/v1/embeddings`` answer: a vector per input from its SHA-256."""
    import hashlib

    inputs = req.get("input")
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or []]
    size = int(req.get("dimensions") or 8)
    data = []
    for i, text in enumerate(texts):
        digest = hashlib.sha256(text.encode()).digest()
        data.append(
            {
                "object": "embedding",
                "index": i,
                "embedding": [(digest[k % len(digest)] - 128) / 128 for k in range(size)],
            }
        )
    tokens = sum(len(t.split()) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": req.get("model", "mock"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tool-call", help="answer every request with this tool call: NAME=JSON_ARGUMENTS")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    tool_call = None
    if args.tool_call:
        name, _, arguments = args.tool_call.partition("=")
        tool_call = {"name": name, "arguments": arguments}
    asyncio.run(MockUpstream(args.port, record=False, tool_call=tool_call).serve())


if __name__ == "__main__":
    main()
