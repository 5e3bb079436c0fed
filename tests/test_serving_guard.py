"""The service against hostile clients: slow texts, gone clients, bad bodies, slow bodies, floods.

A real uvicorn server runs in a thread with a text worker pool whose "quotes" job spins forever
on texts that start with ``SPIN`` (tests/workloads.py), so these tests hold whatever the quote
splitter's speed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import statistics
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.middleware import json_problem, parse_json
from serving.settings import ServiceSettings
from serving.workers import TextWorkerPool
from tests.servers import ServerThread
from tests.workloads import SPIN, TASKS

ARTICLE = "Foreign Minister Sergei Lavrov met Iran's envoy.\n\n“We will revive the accord,” Lavrov said."


def _settings(tiny_model, **overrides) -> ServiceSettings:
    values = dict(model_path=str(tiny_model), request_timeout_s=1.5, text_workers=1, max_body_bytes=20_000)
    values.update(overrides)
    return ServiceSettings(**values)


@pytest.fixture()
def server(tiny_model):
    app = create_app(_settings(tiny_model), pool=TextWorkerPool(1, tasks=TASKS))
    with ServerThread(app) as running:
        yield running


def _wait_for(condition, seconds: float = 10) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_stuck_text_times_out_with_503_while_health_answers_then_the_worker_is_back(server):
    first_pid = server.pool.pids()

    async def scenario():
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            baseline = []
            for _ in range(10):
                started = time.perf_counter()
                await client.get("/health")
                baseline.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
            slow = asyncio.create_task(client.post("/v1/quotes", json={"text": SPIN + ARTICLE}))
            await asyncio.sleep(0.2)
            health = []
            while not slow.done():
                started = time.perf_counter()
                r = await client.get("/health")
                health.append((r.status_code, time.perf_counter() - started))
                await asyncio.sleep(0.05)
            return await slow, health, baseline

    response, health, baseline = asyncio.run(scenario())
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "timeout"
    assert len(health) >= 5 and all(status == 200 for status, _ in health)
    # within 100 ms while the worker spins (before issue 9: one answer after the whole stall); on a
    # loaded machine, where the idle server itself is slower than that, within 3x its own latency
    limit = max(0.1, 3 * statistics.median(baseline))
    during = [seconds for _, seconds in health]
    assert statistics.median(during) < limit and max(during) < 1.0, (during, baseline)
    # the stuck worker was killed and replaced, not left running
    assert server.pool.replaced == 1 and server.pool.pids() != first_pid
    assert _wait_for(lambda: server.pool.alive() == 1)
    # the fresh worker may still be importing on a loaded machine, past the test's 1.5 s budget
    deadline = time.time() + 60
    body = {"text": ARTICLE}
    while (ok := httpx.post(server.url + "/v1/quotes", json=body, timeout=30)).status_code != 200:
        assert time.time() < deadline, ok.text
    assert ok.json()["quotes"][0]["speaker"] == "Sergei Lavrov"
    metrics = httpx.get(server.url + "/metrics").text
    assert 'stance_text_jobs_total{outcome="timeout"}' in metrics


def test_work_for_a_client_that_went_away_is_cancelled(tiny_model):
    app = create_app(_settings(tiny_model, request_timeout_s=30), pool=TextWorkerPool(1, tasks=TASKS))
    with ServerThread(app) as running:
        with pytest.raises(httpx.TimeoutException):
            httpx.post(running.url + "/v1/quotes", json={"text": SPIN + ARTICLE}, timeout=2)
        # long before the 30 s budget, the abandoned job is interrupted and its worker kept
        # (issue 17: a gone client's job costs what it already cost, and no worker restarts)
        url = running.url + "/metrics"
        assert _wait_for(lambda: 'stance_text_jobs_total{outcome="cancelled"} 1.0' in httpx.get(url).text)
        started = time.perf_counter()
        assert httpx.post(running.url + "/v1/quotes", json={"text": ARTICLE}, timeout=30).status_code == 200
        assert time.perf_counter() - started < 10 and running.pool.replaced == 0


def test_pool_kills_the_worker_of_a_cancelled_job_that_will_not_stop():
    async def scenario():
        pool = TextWorkerPool(1, tasks=TASKS)
        await pool.start()
        (pid,) = pool.pids()
        await pool.run("quotes", "“Yes,” Lavrov said.", budget_s=120)  # the worker has started
        job = asyncio.create_task(pool.run("stubborn", SPIN, budget_s=3))
        await asyncio.sleep(0.5)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        # it ignores the interrupt, so its worker is killed when the job's budget runs out
        while pool.replaced == 0:
            await asyncio.sleep(0.05)
        assert pool.pids() != [pid]
        with pytest.raises(ProcessLookupError):
            # give the kernel a moment to reap it
            for _ in range(50):
                os.kill(pid, 0)
                await asyncio.sleep(0.05)
        assert (await pool.run("quotes", "“Yes,” Lavrov said.", budget_s=30))[0].speaker == "Lavrov"
        await pool.stop()

    asyncio.run(scenario())


def _raw_request(port: int, head: bytes, body_parts: list[bytes], pause: float = 0.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        for part in body_parts:
            try:
                sock.sendall(part)
            except OSError:  # the server answered and closed before the whole body was sent
                break
            time.sleep(pause)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b"}" in chunk:
                break
        return b"".join(chunks)


def test_chunked_body_over_the_limit_is_413(server):
    head = (
        b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 8000
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 3 + [b"0\r\n\r\n"]
    reply = _raw_request(server.port, head, parts)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"body_too_large"' in reply


def test_a_body_sent_too_slowly_is_dropped_with_408(tiny_model):
    app = create_app(_settings(tiny_model, body_timeout_s=0.5), pool=TextWorkerPool(1, tasks=TASKS))
    with ServerThread(app) as running:
        head = (
            b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 40\r\n\r\n"
        )
        reply = _raw_request(running.port, head, [b'{"text": ', b'"slow'], pause=1.0)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        # other clients are served meanwhile and afterwards
        assert httpx.post(running.url + "/v1/quotes", json={"text": ARTICLE}, timeout=30).status_code == 200


def test_too_many_requests_in_flight_get_429_and_health_still_answers(tiny_model):
    settings = _settings(tiny_model, max_concurrency=1, request_timeout_s=5)
    app = create_app(settings, pool=TextWorkerPool(1, tasks=TASKS))
    with ServerThread(app) as running:

        async def scenario():
            async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
                slow = asyncio.create_task(client.post("/v1/quotes", json={"text": SPIN}))
                while running.pool.busy == 0:
                    await asyncio.sleep(0.05)
                second = await client.post("/v1/quotes", json={"text": ARTICLE})
                health = await client.get("/health")
                await slow
                return second, health

        second, health = asyncio.run(scenario())
        assert second.status_code == 429 and second.json()["error"]["code"] == "overloaded"
        assert second.headers["retry-after"] and health.status_code == 200


MALFORMED = [
    ("deep nesting", b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("moderate nesting past the limit", b'{"text": ' + b"[" * 40 + b"]" * 40 + b"}"),
    ("invalid UTF-8", b'{"text": "caf\xe9 au lait"}'),
    ("huge integer", b'{"text": "a", "n": 1' + b"0" * 5000 + b"}"),
    ("float overflow", b'{"text": "a", "n": 1e999999}'),
    ("NaN", b'{"text": NaN}'),
    ("not JSON", b"{not json"),
    ("truncated", b'{"text": "abc'),
]


@pytest.fixture()
def client(tiny_model):
    with TestClient(create_app(_settings(tiny_model, max_body_bytes=60_000))) as c:
        yield c


@pytest.mark.parametrize(("what", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_json_is_422_never_400(client, what, body):
    for path in ("/v1/quotes", "/v1/stance", "/v1/analyze"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"]["code"] == "malformed_json"


def test_api_key_is_checked_before_the_body(tiny_model):
    settings = _settings(tiny_model, api_key="s3cret", max_body_bytes=2000)
    with TestClient(create_app(settings)) as c:
        for body in (b"{not json", b"x" * 5000, b'{"text": ' + b"[" * 5000):
            r = c.post("/v1/quotes", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        good = {"X-API-Key": "s3cret", "content-type": "application/json"}
        assert c.post("/v1/quotes", content=b"{not json", headers=good).status_code == 422
        assert c.get("/health").status_code == 200 and c.get("/metrics").status_code == 200


def test_api_key_file_is_read_and_the_key_leaves_the_environment(tmp_path, monkeypatch, tiny_model):
    from serving.app import app_from_env

    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n")
    monkeypatch.setenv("STANCE_MODEL_PATH", str(tiny_model))
    monkeypatch.setenv("STANCE_API_KEY_FILE", str(key_file))
    assert ServiceSettings().key() == "from-a-file"
    monkeypatch.setenv("STANCE_API_KEY", "from-env")
    app = app_from_env()
    assert "STANCE_API_KEY" not in os.environ
    with TestClient(app) as c:
        headers = {"Authorization": "Bearer from-env"}
        assert c.post("/v1/quotes", json={"text": ARTICLE}, headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/health", "/", "/no/such/path"])
def test_a_body_sent_where_no_route_takes_one_is_never_parsed(tiny_model, path):
    """A body where no route reads one is answered 405/404 unread: before, the guard parsed it on
    the event loop for any path (no key needed), and a 2 MB body held every client for seconds."""
    settings = _settings(tiny_model, api_key="s3cret", max_body_bytes=60_000)
    with TestClient(create_app(settings)) as c:
        for body in (b"{not json", b"[" * 5000 + b"]" * 5000, b"[" + b"1" * 5000 + b"]"):
            for content_type in ("application/json", None):
                headers = {"content-type": content_type} if content_type else {}
                r = c.post(path, content=body, headers=headers)
                assert r.status_code == (404 if "no/such" in path else 405), (path, r.text)
                assert r.json()["error"]["code"] in {"not_found", "method_not_allowed"}
        assert c.get("/health").status_code == 200


HOSTILE_BODIES = {
    "a million numbers": b"[" + b"0," * 500_000 + b"0]",
    "a million lists": b"[" + b"[]," * 333_333 + b"[]]",
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES)
def test_checking_a_hostile_body_costs_about_what_parsing_it_costs(body):
    """The body guard checks JSON on the event loop, so its check must cost about json.loads:
    before, a Python call per number and a walk of every node cost ten times that."""

    def best_of_3(work) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return min(times)

    assert parse_json(body, 32)[1] is None
    # timed without the cyclic collector, whose passes over a million new lists cost more the
    # more objects this process holds: the ratio is then the checks' own cost
    gc.disable()
    try:
        loads = best_of_3(lambda: json.loads(body.decode("utf-8")))
        check = best_of_3(lambda: parse_json(body, 32))
    finally:
        gc.enable()
    assert check < 3 * loads, (check, loads)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"text": "' + b"1" * 60 + b'"}', None),  # digits in a string are text, not a number
        (b'{"text": "\\" [[[[ {{{{ 1e999"}', None),  # after an escaped quote, still the string
        (b'{"text": "a\\\\", "n": ' + b"[" * 31 + b"]" * 31 + b"}", None),
        (b'{"text": "a\\\\", "n": ' + b"[" * 32 + b"]" * 32 + b"}", "JSON nested deeper than 32 levels"),
        (b"[" * 2000 + b"]" * 2000, "JSON nested deeper than 32 levels"),
        (b'{"n": -' + b"1" * 39 + b"}", None),
        (b'{"n": -' + b"1" * 40 + b"}", "a number literal of 41 characters; at most 40"),
        (b'{"n": [1.5e300, 1e308, 1e-999, 0e999]}', None),
        (b'{"n": [1.5e300, -2E+308]}', "number -2E+308 is out of range"),
        (b'{"n": Infinity}', "Infinity is not a JSON number"),
        (b'{"n": 1}  x', "not valid JSON: Extra data (line 1, column 11)"),
    ],
)
def test_json_problems_are_found_outside_strings_only(body, problem):
    assert json_problem(body, 32) == problem
