"""Hostile sockets against a real ``stance serve`` (no model needed): header tricklers, silent
sockets and unfinished huge headers, while a prober times ``/health``.

    python benchmarks/connections.py [--trickle 200] [--silent 70] [--huge 10] [--seconds 15]

Prints how many hostile sockets the server still holds after ``--seconds``, how each was
answered, the server's peak RSS growth, and ``/health`` latency during the attack. Sockets come
from distinct loopback addresses (127.0.0.2 ...), as from distinct clients, so the per-client cap
does not hide the timeouts.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kb(pid: int) -> int:
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{child}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(c) for c in handle.read().split()]
    except OSError:
        return []


def _open(port: int, n: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((f"127.0.{1 + n // 250}.{2 + n % 250}", 0))
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def _answer(sock: socket.socket) -> str:
    """'open', or the status line the server answered with before closing."""
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return "open"
    except OSError:
        return "reset"
    return data.split(b"\r\n")[0].decode(errors="replace") or "closed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--silent", type=int, default=70)
    parser.add_argument("--huge", type=int, default=10, help="sockets sending one endless header")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    port = _free_port()
    env = {**os.environ, "STANCE_TEXT_WORKERS": "1", "STANCE_LOG_LEVEL": "WARNING"}
    missing = os.path.join(tempfile.mkdtemp(), "none")
    server = subprocess.Popen(
        [sys.executable, "-m", "stance_cli", "serve", "--model", missing, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("server did not start") from None
                time.sleep(0.5)
        time.sleep(1)
        rss_before = _rss_kb(server.pid)
        trickle = [_open(port, i) for i in range(args.trickle)]
        silent = [_open(port, args.trickle + i) for i in range(args.silent)]
        huge = [_open(port, args.trickle + args.silent + i) for i in range(args.huge)]
        for sock in trickle + huge:
            sock.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        health: list[float] = []
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while s.recv(65536):
                        pass
                health.append(time.perf_counter() - started)
                time.sleep(0.05)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        peak = rss_before
        began = time.time()
        chunk = b"a" * 65536
        while time.time() - began < args.seconds:
            for sock in trickle:
                try:
                    sock.send(b"X-a: b\r\n")
                except OSError:
                    pass
            for sock in huge:
                try:
                    sock.send(chunk)  # 64 KB every 0.1 s, never the end of the header
                except OSError:
                    pass
            peak = max(peak, _rss_kb(server.pid))
            time.sleep(0.1)
        stop.set()
        prober.join(15)
        for name, group in (("trickling", trickle), ("silent", silent), ("huge header", huge)):
            answers: dict[str, int] = {}
            for sock in group:
                answer = _answer(sock)
                answers[answer] = answers.get(answer, 0) + 1
                sock.close()
            print(f"{name:12} {len(group):>4} sockets after {args.seconds:g} s: {answers}")
        print(f"server RSS growth during the attack: {(peak - rss_before) / 1024:.0f} MB (peak over the run)")
        ms = sorted(1000 * s for s in health)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        median = statistics.median(ms)
        print(f"/health during the attack: n={len(ms)} median {median:.1f} ms p99 {p99:.1f} ms")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
