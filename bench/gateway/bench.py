"""Gateway benchmark: a mock OpenAI-compatible upstream on loopback, called directly, through
Charter and through LiteLLM's proxy, in one run.

Each server runs in its own process; the load generator is a small keep-alive HTTP/1.1 client on
asyncio (so its own cost is the same for every target). Measured per run:

- latency at concurrency 1 (sequential requests): p50 and p99 for each target, and Charter's and
  LiteLLM's *added* latency (their percentile minus the direct one);
- CPU per request of the gateway process (user + system time from /proc over the c=1 phase);
- throughput at concurrency 8 (requests per second over a fixed number of requests);
- resident memory (VmRSS) of the gateway process after the load.

Several runs; the medians go to BENCHMARKS.md (section ``bench:gateway``) and to results/.

``--case tool``: every request offers a registered tool (``lookup_plan``, in the Charter project's
``tools/``) and the mock upstream answers with one call of it, so Charter checks the offered
definition against the registry and validates the call's arguments against its schema; LiteLLM gets
the same request and answer (section ``bench:gateway-tools``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BODY = json.dumps(
    {"model": "bench", "messages": [{"role": "user", "content": "Say hello to the benchmark."}], "max_tokens": 16}
).encode()
TOOL_ARGUMENTS = {
    "type": "object",
    "required": ["plan"],
    "additionalProperties": False,
    "properties": {"plan": {"type": "string", "enum": ["starter", "team", "enterprise"]}},
}
TOOL = {
    "type": "function",
    "function": {"name": "lookup_plan", "description": "Look up a plan.", "parameters": TOOL_ARGUMENTS},
}
TOOL_BODY = json.dumps(
    {
        "model": "bench",
        "messages": [{"role": "user", "content": "What does the team plan cost?"}],
        "max_tokens": 16,
        "tools": [TOOL],
    }
).encode()
TOOL_YAML = json.dumps(
    {
        "name": "lookup_plan",
        "description": "Look up a plan.",
        "versions": {"1.0.0": {"changelog": "First.", "arguments": TOOL_ARGUMENTS}},
    }
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Both gateways authenticate every request with a client key (LiteLLM refuses to start without one).
KEY = "sk-bench-" + os.urandom(16).hex()
AUTH = f"authorization: Bearer {KEY}\r\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start in {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (LiteLLM's CLI runs uvicorn in a child)."""
    out = [pid]
    for child in Path("/proc").iterdir():
        if child.name.isdigit():
            try:
                ppid = int(Path(child, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out += tree_pids(int(child.name))
    return out


class Connection:
    """One keep-alive HTTP/1.1 connection; POST /v1/chat/completions, read a content-length body."""

    def __init__(self, port: int, path: str, headers: str, body: bytes = BODY) -> None:
        self.port = port
        self.request = (
            f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"{headers}content-length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self) -> float:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        started = time.perf_counter()
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.readexactly(length)
        elapsed = time.perf_counter() - started
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"port {self.port}: {head.splitlines()[0].decode()}")
        return elapsed

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def sequential(conn: Connection, n: int) -> list[float]:
    return [await conn.call() for _ in range(n)]


async def concurrent(port: int, path: str, headers: str, n: int, c: int, body: bytes) -> float:
    conns = [Connection(port, path, headers, body) for _ in range(c)]
    for conn in conns:  # connect and warm up outside the timed part
        await conn.call()
    per = n // c
    started = time.perf_counter()
    await asyncio.gather(*(sequential(conn, per) for conn in conns))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return per * c / elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Target:
    def __init__(self, name: str, port: int, path: str, proc: subprocess.Popen[bytes] | None, headers: str = ""):
        self.name, self.port, self.path, self.proc, self.headers = name, port, path, proc, headers

    def pids(self) -> list[int]:
        return tree_pids(self.proc.pid) if self.proc else []


def start_mock(tool: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    extra = ["--tool-call", 'lookup_plan={"plan": "team"}'] if tool else []
    proc = subprocess.Popen([sys.executable, "-m", "charter.gateway.mock_upstream", "--port", str(port), *extra])
    wait_for(port, "/", proc)
    return proc, port


def start_charter(
    upstream: int, work: Path, tool: bool, name: str = "charter", extra_env: dict[str, str] | None = None
) -> Target:
    project = work / f"{name}-project"
    shutil.rmtree(project, ignore_errors=True)
    (project / "configs").mkdir(parents=True)
    (project / "content-types").mkdir()
    if tool:
        (project / "tools").mkdir()
        (project / "tools" / "lookup_plan.yaml").write_text(TOOL_YAML)  # JSON is YAML
    # The mock upstream is on loopback, which the egress guard refuses unless allowed (docs/egress.md).
    (project / "charter.toml").write_text('[charter]\ncache = "memory"\n\n[charter.egress]\nallow = ["127.0.0.1"]\n')
    (project / "configs" / "model.yaml").write_text(
        "providers:\n"
        f"  mock: {{kind: openai, base_url: 'http://127.0.0.1:{upstream}/v1', timeout: 10}}\n"
        "models:\n  bench: {provider: mock, model: bench, price: {input_per_1m: 0.15, output_per_1m: 0.6}}\n"
        "routes:\n  default: {policy: fallback, targets: [bench]}\n"
        "keys:\n  - {name: bench, env: BENCH_CLIENT_KEY}\n"
        "anonymous: false\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "CHARTER_LOG_LEVEL": "WARNING",
        "CHARTER_TRACE_EXPORTER": "none",
        "CHARTER_SECRET_KEY": "bench-" + "k" * 32,  # a non-demo server refuses the development key
        "BENCH_CLIENT_KEY": KEY,
    }
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "charter",
            "serve",
            "--project",
            str(project),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_for(port, "/healthz", proc)
    return Target(name, port, "/v1/chat/completions", proc, AUTH)


def start_receiver() -> tuple[subprocess.Popen[bytes], int]:
    """An OTLP receiver process (charter.observability.receiver) for ``--otlp``."""
    port = free_port()
    args = [sys.executable, "-m", "charter.observability.receiver", "--http-port", str(port), "--grpc-port", "-1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    wait_for(port, "/received", proc)
    return proc, port


def otlp_env(receiver: int) -> dict[str, str]:
    """Every span exported (the GenAI client span, the server span) over OTLP/HTTP, batched."""
    return {
        "CHARTER_TRACE_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver}",
        "OTEL_TRACES_SAMPLER": "always_on",
    }


def write_otlp_section(med: dict[str, dict[str, float]], runs: int, command: str, spans: int) -> None:
    off, on = med["charter"], med["charter-otlp"]
    extra = on["cpu_ms_per_req"] - off["cpu_ms_per_req"]
    verdict = "met" if on["cpu_ms_per_req"] <= 0.5 else "**missed**"
    lines = [
        "<!-- bench:gateway-otlp -->",
        "## Gateway with GenAI spans exported (`bench/gateway/ --otlp`)",
        "",
        f"Medians of {runs} runs of `{command}` ({time.strftime('%Y-%m-%d')}): the same mock upstream and load as",
        "above, Charter with tracing off next to Charter exporting every span (`always_on`: the server span and the",
        "GenAI `chat` client span of each call) over OTLP/HTTP, batched, to a receiver process on loopback",
        f"(`charter.observability.receiver`, which got {spans} spans). Load average when written:",
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared).",
        "",
        "| | tracing off | GenAI spans exported | target |",
        "| --- | ---: | ---: | --- |",
        f"| CPU per request | {off['cpu_ms_per_req']:.3f} ms | {on['cpu_ms_per_req']:.3f} ms | ≤ 0.5 ms ({verdict}; "
        f"export adds {extra:.3f} ms) |",
        f"| latency p50, c=1 | {off['p50_ms']:.2f} ms | {on['p50_ms']:.2f} ms | |",
        f"| latency p99, c=1 | {off['p99_ms']:.2f} ms | {on['p99_ms']:.2f} ms | |",
        f"| requests/s, c=8 | {off['rps_c8']:.0f} | {on['rps_c8']:.0f} | |",
        "",
        "<!-- /bench:gateway-otlp -->",
    ]
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    start_mark, end_mark = "<!-- bench:gateway-otlp -->", "<!-- /bench:gateway-otlp -->"
    if start_mark in text:
        start, end = text.index(start_mark), text.index(end_mark) + len(end_mark)
        text = text[:start] + "\n".join(lines) + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")


def start_litellm(upstream: int, work: Path, venv: Path) -> Target:
    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: bench\n"
        "    litellm_params:\n"
        "      model: openai/bench\n"
        f"      api_base: http://127.0.0.1:{upstream}/v1\n"
        "      api_key: sk-bench\n"
        "litellm_settings:\n  telemetry: false\n  drop_params: true\n"
        f"general_settings:\n  master_key: {KEY}\n"
    )
    port = free_port()
    env = {**os.environ, "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.Popen(
        [str(venv / "bin" / "litellm"), "--config", str(config), "--port", str(port), "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for(port, "/health/liveliness", proc, timeout=300)
    return Target("litellm", port, "/v1/chat/completions", proc, AUTH)


async def measure(target: Target, n_seq: int, n_conc: int, warmup: int, body: bytes) -> dict[str, float]:
    conn = Connection(target.port, target.path, target.headers, body)
    await sequential(conn, warmup)
    pids = target.pids()
    cpu0 = sum(cpu_seconds(p) for p in pids)
    latencies = await sequential(conn, n_seq)
    cpu1 = sum(cpu_seconds(p) for p in pids)
    conn.close()
    rps = await concurrent(target.port, target.path, target.headers, n_conc, 8, body)
    out = {
        "p50_ms": pct(latencies, 0.50) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "rps_c8": rps,
    }
    if pids:
        out["cpu_ms_per_req"] = (cpu1 - cpu0) / n_seq * 1000
        out["rss_mb"] = sum(rss_mb(p) for p in target.pids())
    return out


def one_run(targets: list[Target], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    results = {}
    for target in targets:
        lite = target.name == "litellm"  # a hundred times slower: fewer requests, the same statistics
        n_seq = args.litellm_requests_c1 if lite else args.requests_c1
        n_conc = args.litellm_requests_c8 if lite else args.requests_c8
        body = TOOL_BODY if args.case == "tool" else BODY
        results[target.name] = asyncio.run(measure(target, n_seq, n_conc, args.warmup if not lite else 20, body))
        print(f"  {target.name:8s} {json.dumps({k: round(v, 3) for k, v in results[target.name].items()})}", flush=True)
    direct = results["direct"]
    for name in ("charter", "charter-otlp", "litellm"):
        if name in results:
            results[name]["added_p50_ms"] = results[name]["p50_ms"] - direct["p50_ms"]
            results[name]["added_p99_ms"] = results[name]["p99_ms"] - direct["p99_ms"]
    return results


def medians(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in runs[0]:
        out[name] = {k: statistics.median(r[name][k] for r in runs) for k in runs[0][name]}
    return out


def write_section(med: dict[str, dict[str, float]], runs: int, command: str, case: str = "chat") -> None:
    c, d = med["charter"], med["direct"]
    lite = med.get("litellm")
    ratio = f"{c['rps_c8'] / lite['rps_c8']:.1f}×" if lite else "n/a"
    rows = [
        (
            "added latency p50, c=1",
            f"{c['added_p50_ms']:.2f} ms",
            f"{lite['added_p50_ms']:.2f} ms" if lite else "-",
            "≤ 1 ms",
        ),
        (
            "added latency p99, c=1",
            f"{c['added_p99_ms']:.2f} ms",
            f"{lite['added_p99_ms']:.2f} ms" if lite else "-",
            "≤ 3 ms",
        ),
        (
            "CPU per request",
            f"{c['cpu_ms_per_req']:.3f} ms",
            f"{lite['cpu_ms_per_req']:.3f} ms" if lite else "-",
            "≤ 0.5 ms",
        ),
        (
            "requests/s, c=8",
            f"{c['rps_c8']:.0f}",
            f"{lite['rps_c8']:.0f}" if lite else "-",
            f"≥ 10× LiteLLM (got {ratio})",
        ),
        (
            "resident memory after load",
            f"{c['rss_mb']:.0f} MB",
            f"{lite['rss_mb']:.0f} MB" if lite else "-",
            "≤ 150 MB",
        ),
    ]
    marker = "bench:gateway" if case == "chat" else "bench:gateway-tools"
    what = (
        "non-streaming chat completions."
        if case == "chat"
        else "non-streaming chat completions offering one registered tool, the upstream answering with one call of it"
        " (Charter checks the offered definition against `tools/` and validates the call's arguments)."
    )
    server = os.environ.get("CHARTER_SERVER", "granian")
    lines = [
        f"<!-- {marker} -->",
        "## Gateway (`bench/gateway/`)"
        if case == "chat"
        else "## Gateway with a registered tool (`bench/gateway/ --case tool`)",
        "",
        f"Medians of {runs} runs of `{command}` ({time.strftime('%Y-%m-%d')}): a mock OpenAI-compatible upstream",
        f"on loopback, called directly, through Charter (`charter serve` on {server}, one worker, audit records on"
        " SQLite) and through",
        f"LiteLLM's proxy (`litellm[proxy]==1.106.12`, one worker, its own venv), {what}",
        f"Direct to the upstream: p50 {d['p50_ms']:.2f} ms, p99 {d['p99_ms']:.2f} ms, "
        f"{d['rps_c8']:.0f} requests/s at c=8. Load average when written: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (shared); every figure is inflated by the contention, the peer's as much.",
        "",
        "| | Charter | LiteLLM | target |",
        "| --- | ---: | ---: | --- |",
        *[f"| {a} | {b} | {cl} | {t} |" for a, b, cl, t in rows],
        "",
        f"<!-- /{marker} -->",
    ]
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    if f"<!-- {marker} -->" not in text:  # a new section goes after the chat one
        anchor = text.index("<!-- /bench:gateway -->") + len("<!-- /bench:gateway -->")
        text = text[:anchor] + f"\n\n<!-- {marker} -->\n<!-- /{marker} -->" + text[anchor:]
    start, end = (
        text.index(f"<!-- {marker} -->"),
        text.index(f"<!-- /{marker} -->") + len(f"<!-- /{marker} -->"),
    )
    path.write_text(text[:start] + "\n".join(lines) + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests-c1", type=int, default=2000)
    parser.add_argument("--requests-c8", type=int, default=8000)
    parser.add_argument("--litellm-requests-c1", type=int, default=300)
    parser.add_argument("--litellm-requests-c8", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--litellm-venv", type=Path, default=HERE / ".venv-litellm")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument(
        "--case", choices=("chat", "tool"), default="chat", help="tool: a registered tool offered and called"
    )
    parser.add_argument(
        "--otlp", action="store_true", help="Charter with every span exported over OTLP next to tracing off, only"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="charter-bench-gw-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        mock, upstream = start_mock(args.case == "tool")
        procs.append(mock)
        targets = [Target("direct", upstream, "/v1/chat/completions", None)]
        charter = start_charter(upstream, work, args.case == "tool")
        procs.append(charter.proc)  # type: ignore[arg-type]
        targets.append(charter)
        receiver = 0
        if args.otlp:
            receiver_proc, receiver = start_receiver()
            procs.append(receiver_proc)
            exported = start_charter(upstream, work, args.case == "tool", "charter-otlp", otlp_env(receiver))
            procs.append(exported.proc)  # type: ignore[arg-type]
            targets.append(exported)
        if not args.no_litellm and not args.otlp:
            lite = start_litellm(upstream, work, args.litellm_venv)
            procs.append(lite.proc)  # type: ignore[arg-type]
            targets.append(lite)
        runs = []
        for i in range(args.runs):
            print(f"run {i + 1}/{args.runs}", flush=True)
            runs.append(one_run(targets, args))
        med = medians(runs)
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "latest.json").write_text(json.dumps({"runs": runs, "medians": med}, indent=2))
        print(json.dumps(med, indent=2))
        if args.otlp:
            time.sleep(6)  # the batch processor's schedule delay: the last spans arrive
            with urllib.request.urlopen(f"http://127.0.0.1:{receiver}/received", timeout=10) as r:
                spans = len(json.load(r)["spans"])
            print(f"receiver got {spans} spans")
            if not args.no_write:
                write_otlp_section(med, args.runs, f"bench/gateway/run --otlp --runs {args.runs}", spans)
        elif not args.no_write:
            command = " ".join(["bench/gateway/run", *(a for a in sys.argv[1:] if not a.startswith("--litellm-venv"))])
            write_section(med, args.runs, command, args.case)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM) if proc.args[0].endswith("litellm") else proc.terminate()
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
