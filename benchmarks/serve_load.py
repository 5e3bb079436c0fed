"""Load test: the real server under uvicorn on loopback, 1/8/32 concurrent clients for a fixed
time, once with micro-batching and once without, in one run.

Usage:
    python benchmarks/serve_load.py MODEL [--seconds 10] [--clients 1 8 32]

Each request is one /v1/stance item (a quote and a topic). Also times /v1/analyze on the
client's article at one client.
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


def start_server(model: Path, batching: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "STANCE_MODEL_PATH": str(model)}
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
    deadline = time.time() + 120
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
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
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

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def drive(url: str, clients: int, seconds: float) -> dict:
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

    started = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(clients)])
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return {
        "clients": clients,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": errors,
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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
