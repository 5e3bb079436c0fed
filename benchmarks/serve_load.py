"""Load test: the real server under uvicorn on loopback, 1/8/32 concurrent clients for a fixed
time, once with micro-batching and once without, in one run.

Usage:
    python benchmarks/serve_load.py MODEL [--seconds 10] [--clients 1 8 32]
    python benchmarks/serve_load.py MODEL --hostile [--seconds 10] [--rounds 2]

Each request is one /v1/stance item (a quote and a topic). Also times /v1/analyze on the
client's article at one client.

``--hostile`` compares, on one server and at 32 clients, a clean run with a hostile mix in which
1 % of requests are pathological /v1/quotes texts (forty thousand dots, which stalled the whole
server before issue 9, and a 200,000-character article dense with quote marks). A prober times
/health every 50 ms throughout. It prints the ordinary requests' throughput in both runs and
their ratio, p99 of /health, and errors on ordinary requests; goals: ratio >= 0.8, p99 < 100 ms,
0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_8138c3c1e7cbee0d.txt"
QUOTES = [
    "We want closer trade with our neighbours in every field.",
    "Nothing we have done breaks the agreement.",
    "They should do much more to restart the talks.",
    "This visit matters a great deal at this moment.",
    "We will not sign an agreement that harms our people.",
    "The sanctions have failed and must be lifted.",
]
TOPICS = ["the JCPOA", "Afghanistan", "sanctions", "Russia"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path, batching: bool, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "STANCE_MODEL_PATH": str(model), **(extra_env or {})}
    cmd = [
        sys.executable,
        "-m",
        "stance_cli",
        "serve",
        "--port",
        str(port),
        "--batching" if batching else "--no-batching",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    # torch's import alone takes a minute on a loaded 2-core machine
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not become ready")


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client: cheap enough that the load generator, which shares
    the machine's cores with the server, is not what limits the measured throughput."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> int:
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def get(self, path: str) -> int:
        return await self.request("GET", path, b"")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def pathological_texts() -> list[bytes]:
    """Two texts that are expensive for a rule-based splitter, as /v1/quotes bodies."""
    dots = "." * 40_000
    marks = " ".join(f"“{i} ‘a” b’ «c" for i in range(20_000))[:199_000]
    return [json.dumps({"text": t}).encode() for t in (dots, marks)]


async def drive(url: str, clients: int, seconds: float, hostile_share: float = 0.0) -> dict:
    """Ordinary /v1/stance requests from ``clients`` clients; with ``hostile_share``, that share of
    all requests are pathological /v1/quotes texts, sent beside the ordinary clients (a hostile
    client does not wait in an ordinary client's place), and /health is probed every 50 ms."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    bodies = [
        json.dumps({"items": [{"text": QUOTES[k % len(QUOTES)], "topic": TOPICS[k % len(TOPICS)]}]}).encode()
        for k in range(len(QUOTES) * len(TOPICS))
    ]
    stop_at = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal errors
        http = KeepAliveClient(host, int(port))
        k = i
        try:
            while time.perf_counter() < stop_at:
                body = bodies[k % len(bodies)]
                k += clients
                started = time.perf_counter()
                try:
                    status = await http.post("/v1/stance", body)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    await http.close()
                    http = KeepAliveClient(host, int(port))
                    continue
                if status != 200:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
        finally:
            await http.close()

    health: list[float] = []
    hostile_sent, hostile_status = 0, {}
    nasty = pathological_texts()

    async def prober() -> None:
        http = KeepAliveClient(host, int(port))
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await http.get("/health")
                health.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
        finally:
            await http.close()

    async def one_hostile(body: bytes) -> None:
        http = KeepAliveClient(host, int(port))
        try:
            status = await http.post("/v1/quotes", body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = "dropped"
        finally:
            await http.close()
        hostile_status[status] = hostile_status.get(status, 0) + 1

    async def hostile() -> None:
        nonlocal hostile_sent
        pending = set()
        while time.perf_counter() < stop_at:
            # keep pathological requests at hostile_share of everything sent so far
            due = hostile_share * (len(latencies) + errors + hostile_sent) / (1 - hostile_share)
            if hostile_sent < due:
                pending.add(asyncio.create_task(one_hostile(nasty[hostile_sent % len(nasty)])))
                hostile_sent += 1
            await asyncio.sleep(0.01)
        # collect the pathological requests' answers (the budget is 10 s) after the timed run
        done, late = await asyncio.wait(pending, timeout=15) if pending else (set(), set())
        for task in late:
            task.cancel()

    extra = asyncio.gather(prober(), hostile()) if hostile_share else asyncio.gather(prober())
    started = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(clients)])
    elapsed = time.perf_counter() - started
    await extra
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    hq = statistics.quantiles(health, n=100) if len(health) >= 2 else [0.0] * 99
    return {
        "clients": clients,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": errors,
        "health_p99_ms": hq[98] * 1000,
        "health_max_ms": max(health, default=0.0) * 1000,
        "hostile_sent": hostile_sent,
        "hostile_status": hostile_status,
    }


def analyze_latency(url: str, repeats: int = 5) -> float:
    text = (
        SEED.read_text(encoding="utf-8")
        if SEED.is_file()
        else " ".join(f"“{q}” Jalali said." for q in QUOTES)
    )
    body = {"text": text, "topics": ["the JCPOA", "Afghanistan"]}
    httpx.post(url + "/v1/analyze", json=body, timeout=60)  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        r = httpx.post(url + "/v1/analyze", json=body, timeout=60)
        r.raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--hostile", action="store_true", help="clean vs 1 %% pathological mix")
    parser.add_argument("--rounds", type=int, default=2, help="clean/hostile pairs with --hostile")
    args = parser.parse_args()
    if args.hostile:
        return hostile_main(args)

    results = {}
    for batching in (True, False):
        proc, url = start_server(args.model, batching)
        try:
            name = "batching" if batching else "no batching"
            results[name] = [asyncio.run(drive(url, c, args.seconds)) for c in args.clients]
            if batching:
                results["analyze_seed_article_s"] = analyze_latency(url)
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    print(f"/v1/stance, one item per request, {args.seconds:g} s per row")
    print(f"{'mode':12} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for name in ("batching", "no batching"):
        for r in results[name]:
            print(
                f"{name:12} {r['clients']:>7} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} "
                f"{r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>6}"
            )
    top = max(args.clients)
    on = next(r for r in results["batching"] if r["clients"] == top)["rps"]
    off = next(r for r in results["no batching"] if r["clients"] == top)["rps"]
    print(f"throughput ratio at {top} clients, batching / no batching: {on / off:.2f}x")
    print(
        f"/v1/analyze on the client's article, one client: "
        f"{results['analyze_seed_article_s'] * 1000:.0f} ms (median of 5)"
    )
    if args.output:
        args.output.write_text(json.dumps(results, indent=2))


def hostile_main(args: argparse.Namespace) -> None:
    """Clean and hostile runs alternated on one server; medians over rounds."""
    clients = max(args.clients)
    proc, url = start_server(args.model, batching=True)
    runs: dict[str, list[dict]] = {"clean": [], "hostile": []}
    try:
        asyncio.run(drive(url, clients, 2))  # warm-up
        for _ in range(args.rounds):
            runs["clean"].append(asyncio.run(drive(url, clients, args.seconds)))
            runs["hostile"].append(asyncio.run(drive(url, clients, args.seconds, hostile_share=0.01)))
            time.sleep(2)  # let the last pathological jobs hit their budget before the next clean run
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print(
        f"/v1/stance at {clients} clients, {args.seconds:g} s per run, {args.rounds} round(s); hostile = 1 %"
    )
    print("pathological /v1/quotes texts (40,000 dots; 200,000 characters of quote marks) sent beside them")
    print(
        f"{'run':8} {'req/s':>8} {'p99 ms':>8} {'errors':>6} {'health p99 ms':>13} {'health max':>10} hostile"
    )
    for name, rows in runs.items():
        for r in rows:
            print(
                f"{name:8} {r['rps']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>6} {r['health_p99_ms']:>13.1f} "
                f"{r['health_max_ms']:>10.1f} {r['hostile_sent']} sent {r['hostile_status']}"
            )
    clean = statistics.median(r["rps"] for r in runs["clean"])
    hostile = statistics.median(r["rps"] for r in runs["hostile"])
    health_p99 = max(r["health_p99_ms"] for r in runs["hostile"])
    errors = sum(r["errors"] for r in runs["hostile"])
    print(f"ordinary throughput, hostile / clean (medians): {hostile / clean:.2f}  (goal >= 0.80)")
    print(f"/health p99 under the hostile mix (worst run): {health_p99:.1f} ms  (goal < 100)")
    print(f"errors on ordinary requests under the hostile mix: {errors}  (goal 0)")
    if args.output:
        args.output.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
