"""Connections against hostile clients: silent and trickling sockets, huge headers, socket floods
from one address, idle keep-alive, malformed requests and slow bodies; every refusal is JSON.

A real uvicorn server runs under the service's own launch options (:mod:`serving.launch`), with
limits shrunk so each case takes well under a second.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time

import httpx
import pytest

from serving.app import create_app
from serving.launch import server_config
from serving.settings import ServiceSettings
from serving.workers import TextWorkerPool
from tests.servers import ServerThread
from tests.workloads import TASKS

ARTICLE = "Foreign Minister Sergei Lavrov met Iran's envoy.\n\n“We will revive the accord,” Lavrov said."
LIMITS = dict(
    header_timeout_s=0.5,
    keep_alive_s=1,
    max_header_bytes=4096,
    max_connections_per_client=4,
    max_connections=64,
    max_concurrency=1,
    body_timeout_s=3,
)


class Server(ServerThread):
    """The app under :func:`serving.launch.server_config` on a free loopback port, in a thread."""

    def __init__(self, settings: ServiceSettings) -> None:
        app = create_app(settings, pool=TextWorkerPool(1, tasks=TASKS))
        super().__init__(app, lambda app, port: server_config(app, settings, port=port, log_level="warning"))

    def open(self, source: str = "127.0.0.1") -> socket.socket:
        sock = socket.socket()
        sock.settimeout(10)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", self.port))
        return sock


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # no model: quotes and the ops endpoints are enough to exercise connections
    missing = tmp_path_factory.mktemp("none") / "model"
    with Server(ServiceSettings(model_path=str(missing), text_workers=1, **LIMITS)) as running:
        yield running


def _read_reply(sock: socket.socket) -> tuple[int, dict, bool]:
    """Status, JSON body and whether the server then closed the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    length = int(
        next(
            v
            for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])
            if k.lower() == b"content-length"
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    assert b"content-type: application/json" in head.lower(), head
    try:
        closed = sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        closed = True
    return int(head.split()[1]), json.loads(body), closed


def _answered(sock: socket.socket) -> bool:
    """The server has written something (so sending more would only draw a reset)."""
    return bool(select.select([sock], [], [], 0)[0])


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def test_a_silent_socket_is_answered_408_and_closed(server):
    with server.open() as sock:
        started = time.perf_counter()
        status, body, closed = _read_reply(sock)
    assert (status, body["error"]["code"], closed) == (408, "header_timeout", True)
    assert time.perf_counter() - started < 5


def test_trickled_headers_are_cut_off_at_the_header_timeout(server):
    with server.open() as sock:
        started = time.perf_counter()
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        # a header line every 50 ms, never the blank line, until the server answers
        while time.perf_counter() - started < 5 and not _answered(sock):
            sock.sendall(b"X-a: b\r\n")
            time.sleep(0.05)
        status, body, closed = _read_reply(sock)
    assert (status, body["error"]["code"], closed) == (408, "header_timeout", True)
    assert time.perf_counter() - started < 4


def test_headers_over_the_limit_are_refused_with_431_before_they_end(server):
    with server.open() as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        for _ in range(64):  # 1 MB offered; the server stops at 4 KB
            if _answered(sock):
                break
            sock.sendall(b"a" * 1024)
            time.sleep(0.01)
        status, body, closed = _read_reply(sock)
    assert (status, body["error"]["code"], closed) == (431, "headers_too_large", True)


def test_a_malformed_request_gets_a_json_400(server):
    with server.open() as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, body, closed = _read_reply(sock)
    assert (status, body["error"]["code"], closed) == (400, "malformed_http", True)


def test_an_idle_kept_alive_socket_is_closed(server):
    with server.open() as sock:
        sock.sendall(_get("/health"))
        sock.settimeout(10)
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 200")
        started = time.perf_counter()
        assert sock.recv(1) == b""  # closed by the server after keep_alive_s (1 s)
    assert time.perf_counter() - started < 5


def test_one_address_cannot_hold_every_socket_and_health_still_answers(server):
    held = [server.open() for _ in range(LIMITS["max_connections_per_client"])]
    try:
        with server.open() as extra:
            extra.sendall(_get("/v1/model"))
            status, body, closed = _read_reply(extra)
        assert (status, body["error"]["code"], closed) == (429, "too_many_connections", True)
        assert "limit 4" in body["error"]["message"]
        with server.open() as extra:
            extra.sendall(_get("/health"))
            status, body, _ = _read_reply(extra)
        assert status == 200 and body["status"] == "ok"
        # another address is not refused
        with server.open("127.0.0.2") as other:
            other.sendall(_get("/v1/model"))
            assert other.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()


def test_past_the_server_limit_every_refusal_is_json_and_health_answers(tmp_path):
    settings = ServiceSettings(
        model_path=str(tmp_path / "none"),
        text_workers=1,
        **(LIMITS | {"max_connections": 3, "header_timeout_s": 5}),
    )
    with Server(settings) as running:
        held = [running.open(f"127.0.0.{n}") for n in (2, 3, 4)]
        try:
            with running.open("127.0.0.5") as extra:
                extra.sendall(_get("/v1/model"))
                status, body, closed = _read_reply(extra)
            assert (status, body["error"]["code"], closed) == (503, "too_many_connections", True)
            with running.open("127.0.0.5") as extra:
                extra.sendall(_get("/health"))
                status, body, _ = _read_reply(extra)
            assert status == 200
        finally:
            for sock in held:
                sock.close()


def test_a_slow_body_holds_no_concurrency_slot(server):
    # max_concurrency is 1: before, the trickling body held the only /v1 slot until its 408
    with server.open() as slow:
        slow.sendall(
            b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 400\r\n\r\n"
            b'{"text": "'
        )
        time.sleep(0.2)
        for _ in range(3):
            ok = httpx.post(server.url + "/v1/quotes", json={"text": ARTICLE}, timeout=30)
            assert ok.status_code == 200, ok.text
        assert ok.json()["quotes"][0]["speaker"] == "Sergei Lavrov"


@pytest.mark.parametrize(
    "content_type", ["Application/JSON", "APPLICATION/JSON; charset=utf-8", "application/problem+JSON"]
)
def test_json_checks_ignore_the_content_type_case(server, content_type):
    async def post(body: bytes) -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            return await client.post("/v1/quotes", content=body, headers={"content-type": content_type})

    for body in (b'{"text": NaN}', b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        r = asyncio.run(post(body))
        assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_json", r.text


def test_a_body_sent_where_none_is_read_leaves_the_socket_serving(server):
    # the body guard reads such a body (never parsing it) before the 404/405: left unread, its
    # bytes would arrive after the answer and count as the next request's headers (431, closed)
    body = b"[" + b"[]," * 333_333 + b"[]]"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for path, status in (("/health", 405), ("/no/such/path", 404)):
            assert client.post(path, content=body).status_code == status
            assert client.get("/health").status_code == 200
