"""Load test: the real server under uvicorn on loopback, 1/8/32 concurrent clients for a fixed
time, once with micro-batching and once without, in one run.

Usage:
    python benchmarks/serve_load.py MODEL [--seconds 10] [--clients 1 8 32]
    python benchmarks/serve_load.py MODEL --hostile [--seconds 10] [--rounds 1]

Each request is one /v1/stance item (a quote and a topic). Also times /v1/analyze on the
client's article at one client.

``--hostile`` runs, on one server, 32 ordinary /v1/stance clients with a prober timing /health
every 50 ms, once clean and once beside each hostile client (issues 9 and 17), and prints each
run's figures and its ratio to the clean run:

- ``pathological``: 1 % of requests are pathological /v1/quotes texts (forty thousand dots; a
  200,000-character article dense with quote marks). Goal: ordinary throughput >= 0.8x clean.
- ``poison``: a client loops /v1/stance requests each holding one item the model cannot read
  (a 499-character topic, past the model's token limit) beside a good one. Goal: 0 errors for
  the other clients.
- ``fill``: a client loops a 35 KB /v1/analyze of 256 quotes x 16 topics (4,096 pairs, the whole
  model queue). Goal: the others' /v1/stance p99 within 2x clean.
- ``disconnect``: 8 clients send /v1/quotes and hang up after 50 ms, over and over, beside 2
  ordinary /v1/quotes clients (no stance clients in this run and its clean run, "quotes clean").
  Goal: the ordinary /v1/quotes median within 2x clean.

In every run: /health p99 under 100 ms.
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


# the addresses the hostile client and the /health prober send as (ordinary clients: 10.1.x.y for
# /v1/stance, 10.2.x.y for /v1/quotes)
HOSTILE, PROBER = "10.255.0.1", "10.254.0.1"


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client: cheap enough that the load generator, which shares
    the machine's cores with the server, is not what limits the measured throughput."""

    def __init__(self, host: str, port: int, client: str | None = None) -> None:
        self.host, self.port = host, port
        # the service tells clients apart by address (serving/clients.py) and trusts
        # X-Forwarded-For from loopback, so each simulated client names an address of its own
        self.forwarded = f"X-Forwarded-For: {client}\r\n" if client else ""
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> int:
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"{self.forwarded}Content-Length: {len(body)}\r\n\r\n"
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


def article() -> str:
    """The client's article when the shared seeds are there, else a few quotes."""
    if SEED.is_file():
        return SEED.read_text(encoding="utf-8")
    return "\n\n".join(f"“{q}” Jalali said." for q in QUOTES)


def poison_bodies() -> list[bytes]:
    """/v1/stance bodies with one item the model cannot read beside a good one."""
    good = {"text": QUOTES[0], "topic": TOPICS[0]}
    long_topic = " ".join(str(i % 10) for i in range(250))  # 499 characters, 250 tokens: past 128
    return [json.dumps({"items": [good, {"text": QUOTES[1], "topic": long_topic}]}).encode()]


def fill_body() -> bytes:
    """A 35 KB /v1/analyze: 256 direct quotes x 16 topics = 4,096 pairs."""
    quotes = [
        f"“{QUOTES[i % len(QUOTES)]} That is point {i} of many in this long statement,” Jalali said."
        for i in range(256)
    ]
    topics = [f"{TOPICS[i % len(TOPICS)]} ({i})" for i in range(16)]
    return json.dumps({"text": "\n\n".join(quotes), "topics": topics, "kinds": ["direct"]}).encode()


async def drive(
    url: str,
    clients: int,
    seconds: float,
    hostile_share: float = 0.0,
    adversary: str | None = None,
    quote_clients: int = 0,
) -> dict:
    """Ordinary /v1/stance requests from ``clients`` clients (and /v1/quotes from ``quote_clients``),
    /health probed every 50 ms, beside an optional hostile client.

    ``hostile_share`` (or ``adversary="pathological"``): that share of all requests are
    pathological /v1/quotes texts, sent beside the ordinary clients (a hostile client does not wait
    in an ordinary client's place). ``adversary`` "poison", "fill" or "disconnect": see the module
    docstring.
    """
    if adversary == "pathological" and not hostile_share:
        hostile_share = 0.01
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    quote_latencies: list[float] = []
    errors = 0
    error_status: dict = {}
    bodies = [
        json.dumps({"items": [{"text": QUOTES[k % len(QUOTES)], "topic": TOPICS[k % len(TOPICS)]}]}).encode()
        for k in range(len(QUOTES) * len(TOPICS))
    ]
    quotes_body = json.dumps({"text": article()}).encode()
    stop_at = time.perf_counter() + seconds

    def failed(status) -> None:
        nonlocal errors
        errors += 1
        error_status[status] = error_status.get(status, 0) + 1

    async def client(i: int, path: str, sample: list[float]) -> None:
        address = f"10.{1 + (path == '/v1/quotes')}.{i // 200}.{i % 200 + 1}"
        http = KeepAliveClient(host, int(port), address)
        k = i
        try:
            while time.perf_counter() < stop_at:
                body = bodies[k % len(bodies)] if path == "/v1/stance" else quotes_body
                k += clients
                started = time.perf_counter()
                try:
                    status = await http.post(path, body)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    failed("dropped")
                    await http.close()
                    http = KeepAliveClient(host, int(port), address)
                    continue
                if status != 200:
                    failed(status)
                    continue
                sample.append(time.perf_counter() - started)
        finally:
            await http.close()

    health: list[float] = []
    hostile_sent, hostile_status = 0, {}
    nasty = pathological_texts()

    async def prober() -> None:
        http = KeepAliveClient(host, int(port), PROBER)
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await http.get("/health")
                health.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
        finally:
            await http.close()

    def tally(status) -> None:
        hostile_status[status] = hostile_status.get(status, 0) + 1

    async def one_hostile(body: bytes) -> None:
        http = KeepAliveClient(host, int(port), HOSTILE)
        try:
            status = await http.post("/v1/quotes", body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = "dropped"
        finally:
            await http.close()
        tally(status)

    async def pathological() -> None:
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

    async def looping(path: str, payloads: list[bytes]) -> None:
        """One client sending ``payloads`` in turn, each as soon as the last was answered."""
        nonlocal hostile_sent
        http = KeepAliveClient(host, int(port), HOSTILE)
        try:
            while time.perf_counter() < stop_at:
                try:
                    status = await http.post(path, payloads[hostile_sent % len(payloads)])
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    status = "dropped"
                    await http.close()
                    http = KeepAliveClient(host, int(port), HOSTILE)
                hostile_sent += 1
                tally(status)
        finally:
            await http.close()

    async def hang_up(n: int = 8, after_s: float = 0.05) -> None:
        """``n`` clients that send /v1/quotes and close the socket ``after_s`` later, in a loop."""
        head = (
            f"POST /v1/quotes HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(quotes_body)}\r\n\r\n"
        ).encode()

        async def one() -> None:
            nonlocal hostile_sent
            while time.perf_counter() < stop_at:
                try:
                    _, writer = await asyncio.open_connection(host, int(port))
                except OSError:
                    tally("refused")
                    await asyncio.sleep(after_s)
                    continue
                writer.write(head + quotes_body)
                await asyncio.sleep(after_s)
                writer.close()
                hostile_sent += 1
                tally("hung up")

        await asyncio.gather(*[one() for _ in range(n)])

    extra = [prober()]
    if hostile_share:
        extra.append(pathological())
    elif adversary == "poison":
        extra.append(looping("/v1/stance", poison_bodies()))
    elif adversary == "fill":
        extra.append(looping("/v1/analyze", [fill_body()]))
    elif adversary == "disconnect":
        extra.append(hang_up())
    started = time.perf_counter()
    background = asyncio.gather(*extra)
    await asyncio.gather(
        *[client(i, "/v1/stance", latencies) for i in range(clients)],
        *[client(i, "/v1/quotes", quote_latencies) for i in range(quote_clients)],
    )
    elapsed = time.perf_counter() - started
    await background
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
        "error_status": error_status,
        "quotes_requests": len(quote_latencies),
        "quotes_p50_ms": statistics.median(quote_latencies) * 1000 if quote_latencies else 0.0,
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
    parser.add_argument("--hostile", action="store_true", help="clean vs each hostile client")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of all scenarios with --hostile")
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


SCENARIOS = ("clean", "pathological", "poison", "fill", "quotes clean", "disconnect")
"""The stance runs have 32 /v1/stance clients; "quotes clean" and "disconnect" have 2 ordinary
/v1/quotes clients instead (with 32 stance clients the niced text workers get almost no CPU, and
/v1/quotes times that, not the storm)."""
QUOTE_CLIENTS = 2


def hostile_main(args: argparse.Namespace) -> None:
    """Each scenario beside a clean run, on one server; medians over rounds, ratios to clean."""
    clients = max(args.clients)
    proc, url = start_server(args.model, batching=True)
    runs: dict[str, list[dict]] = {name: [] for name in SCENARIOS}
    try:
        asyncio.run(drive(url, clients, 2, quote_clients=QUOTE_CLIENTS))  # warm-up (both kinds)
        for _ in range(args.rounds):
            for name in SCENARIOS:
                adversary = None if name.endswith("clean") else name
                quotes_run = name in ("quotes clean", "disconnect")
                run = drive(
                    url,
                    0 if quotes_run else clients,
                    args.seconds,
                    adversary=adversary,
                    quote_clients=QUOTE_CLIENTS if quotes_run else 0,
                )
                result = asyncio.run(run)
                runs[name].append(result)
                time.sleep(2)  # let the last hostile jobs hit their budget before the next run
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print(
        f"{clients} /v1/stance clients (or {QUOTE_CLIENTS} /v1/quotes clients), {args.seconds:g} s per run, "
        f"{args.rounds} round(s), model {args.model}"
    )
    print(
        f"{'run':13} {'stance/s':>8} {'p99 ms':>8} {'errors':>6} {'quotes p50':>10} {'health p99':>10} "
        f"{'health max':>10}  hostile client"
    )
    for name, rows in runs.items():
        for r in rows:
            print(
                f"{name:13} {r['rps']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>6} "
                f"{r['quotes_p50_ms']:>10.1f} "
                f"{r['health_p99_ms']:>10.1f} {r['health_max_ms']:>10.1f}  "
                f"{r['hostile_sent']} sent {r['hostile_status']}"
                + (f", errors {r['error_status']}" if r["errors"] else "")
            )

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    def ratio(name: str, key: str, baseline: str = "clean") -> float:
        clean = median(baseline, key)
        return median(name, key) / clean if clean else float("nan")

    print("against the clean run (medians over rounds):")
    throughput = ratio("pathological", "rps")
    print(f"  pathological: ordinary /v1/stance throughput {throughput:.2f}x clean  (goal >= 0.80)")
    print(f"  poison: errors seen by the other clients {sum(r['errors'] for r in runs['poison'])}  (goal 0)")
    print(
        f"  fill: others' /v1/stance p99 {median('fill', 'p99_ms'):.1f} ms vs clean "
        f"{median('clean', 'p99_ms'):.1f} ms = {ratio('fill', 'p99_ms'):.2f}x  (goal <= 2)"
    )
    storm, calm = median("disconnect", "quotes_p50_ms"), median("quotes clean", "quotes_p50_ms")
    print(
        f"  disconnect: ordinary /v1/quotes median {storm:.1f} ms vs clean {calm:.1f} ms = "
        f"{ratio('disconnect', 'quotes_p50_ms', 'quotes clean'):.2f}x  (goal <= 2)"
    )
    print(f"  disconnect: errors seen by the ordinary clients {sum(r['errors'] for r in runs['disconnect'])}")
    for name in SCENARIOS:
        worst = max(r["health_p99_ms"] for r in runs[name])
        print(f"  /health p99, {name}: {worst:.1f} ms  (goal < 100)")
    if args.output:
        args.output.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
