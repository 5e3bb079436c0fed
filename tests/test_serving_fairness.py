"""No client starves another: the model queue and the text workers are shared out per client
(its address, an IPv6 /64 as one), not per request, so one client with many large requests in
flight delays another client's small request by a turn or two, and cannot make it a 429.

Fairness is counted in batches and dispatch order, not in seconds, so a loaded machine cannot
make these tests flake."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.batcher import MicroBatcher, QueueFullError
from serving.clients import client_identity
from serving.settings import ServiceSettings
from serving.workers import TextWorkerPool
from stance.errors import OverloadedError
from stance.pairs import StancePair, StancePrediction
from tests.workloads import SPIN, TASKS


def _pred(pair: StancePair) -> StancePrediction:
    return StancePrediction("none", 1.0, {"favor": 0.0, "against": 0.0, "none": 1.0})


def _pairs(n: int, tag: str) -> list[StancePair]:
    return [StancePair(f"{tag} {i}", "t") for i in range(n)]


async def _settle() -> None:
    """Let every task created so far run up to its first wait (a submit queues synchronously)."""
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("host", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # the same /64: the same client
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 written as IPv6 is that IPv4 client
        ("fe80::1%eth0", "fe80::/64"),
        ("testclient", "testclient"),  # not an address: the name itself
        (None, "unknown"),
    ],
)
def test_a_client_is_its_address_with_ipv6_grouped_by_64(host, client):
    assert client_identity(host) == client


def _gated_batcher(batches: list[list[str]], **options) -> tuple[MicroBatcher, asyncio.Event]:
    """A batcher whose model records each batch's tags and waits for the gate before answering."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Event()

    def predict(pairs):
        batches.append([p.reading.split()[0] for p in pairs])
        asyncio.run_coroutine_threadsafe(gate.wait(), loop).result()
        return [_pred(p) for p in pairs]

    return MicroBatcher(predict, max_wait_ms=0, **options), gate


def test_one_client_with_many_large_requests_cannot_fill_the_model_queue():
    """Four large requests from one client used to take every place (a quarter each), so any
    other client's request was a 429; now that client holds a quarter in all."""
    batches: list[list[str]] = []

    async def scenario():
        batcher, gate = _gated_batcher(batches, max_batch_size=4, max_queue=100)
        await batcher.start()
        heavy = [
            asyncio.create_task(batcher.submit(_pairs(400, "heavy"), client="198.51.100.1")) for _ in range(4)
        ]
        await _settle()
        assert batcher.pending == 25  # the client's quarter of the queue, held by its first request
        light = asyncio.create_task(batcher.submit(_pairs(10, "light"), client="203.0.113.7"))
        await _settle()
        gate.set()
        light_result = await light
        heavy_results = await asyncio.gather(*heavy, return_exceptions=True)
        await batcher.stop()
        return heavy_results, light_result

    heavy_results, light_result = asyncio.run(scenario())
    assert len(heavy_results[0]) == 400
    assert all(isinstance(r, QueueFullError) for r in heavy_results[1:])
    assert "your requests hold 25 of the 25 queue places" in str(heavy_results[1])
    assert len(light_result) == 10
    # answered within a few batches (2 of each 4 places are its), not after the 400 heavy pairs
    last_light = max(i for i, b in enumerate(batches) if "light" in b)
    assert last_light <= 6 and sum(len(b) for b in batches[: last_light + 1]) < 40


def test_the_batcher_takes_turns_by_client_not_by_request():
    """Eight requests in flight from one client and one from another: each client gets a fair
    share of each batch (3 or 5 of 8); per request the second client got at most one pair in
    each batch, one request's turn in nine, and waited eight batches or more."""
    batches: list[list[str]] = []

    async def scenario():
        batcher, gate = _gated_batcher(batches, max_batch_size=8)
        await batcher.start()
        heavy = [
            asyncio.create_task(batcher.submit(_pairs(100, "heavy"), client="2001:db8:1:2::/64"))
            for _ in range(8)
        ]
        light = asyncio.create_task(batcher.submit(_pairs(8, "light"), client="203.0.113.7"))
        await _settle()
        gate.set()
        results = await asyncio.gather(*heavy, light)
        await batcher.stop()
        return results

    results = asyncio.run(scenario())
    assert [len(r) for r in results] == [100] * 8 + [8]
    with_light = [i for i, b in enumerate(batches) if "light" in b]
    assert with_light[-1] <= 3  # the first batch may have been taken before the light request came
    assert all(batches[i].count("light") >= 2 for i in with_light)


def test_text_workers_take_turns_by_client_and_cap_each_clients_waiting_jobs():
    """One worker, held by one client's job; that client queues four more, another client one.
    The first client may keep a quarter of the waiting places (2 of 8), and the free worker goes
    to the clients in turn: the other client's job runs second, not after all of the first's."""

    async def scenario():
        pool = TextWorkerPool(1, max_waiting=8, tasks=TASKS)
        await pool.start()
        holding = asyncio.create_task(pool.run("quotes", SPIN, budget_s=600, client="198.51.100.1"))
        while pool.busy == 0:
            await asyncio.sleep(0.02)
        done: list[str] = []

        async def job(client: str, tag: str):
            quotes = await pool.run("quotes", f"“{tag},” Lavrov said.", budget_s=120, client=client)
            done.append(tag)
            return quotes

        heavy = [asyncio.create_task(job("198.51.100.1", f"heavy{i}")) for i in range(4)]
        await _settle()
        light = asyncio.create_task(job("203.0.113.7", "light"))
        await _settle()
        assert pool.waiting == 3
        holding.cancel()  # the worker is interrupted and taken back: it is free for the next job
        results = await asyncio.gather(*heavy, light, return_exceptions=True)
        await asyncio.gather(holding, return_exceptions=True)
        await pool.stop()
        return results, done

    results, done = asyncio.run(scenario())
    refused = [r for r in results if isinstance(r, OverloadedError)]
    assert len(refused) == 2 and "limit 2 per client" in str(refused[0])
    assert done == ["heavy0", "light", "heavy1"]
    assert results[-1][0].speaker == "Lavrov"


def _peer_from_header(app):
    """The app, seeing each request come from the address in its ``x-peer`` header."""

    async def asgi(scope, receive, send):
        peer = dict(scope.get("headers") or []).get(b"x-peer")
        if scope["type"] == "http" and peer:
            scope["client"] = (peer.decode(), 50000)
        await app(scope, receive, send)

    return asgi


def test_the_routes_queue_work_under_the_client_that_sent_it(tiny_model, monkeypatch):
    # a generous budget: a fresh worker takes seconds to start on a loaded machine
    settings = ServiceSettings(model_path=str(tiny_model), request_timeout_s=120)
    app = create_app(settings, pool=TextWorkerPool(1, tasks=TASKS))
    seen: list[tuple[str, str | None]] = []
    with TestClient(_peer_from_header(app)) as c:
        service = app.state.service
        submit, run = service.batcher.submit, service.pool.run

        async def spy_submit(pairs, name, client=None):
            seen.append(("model", client))
            return await submit(pairs, name, client)

        async def spy_run(name, *args, budget_s, client=None):
            seen.append(("text", client))
            return await run(name, *args, budget_s=budget_s, client=client)

        monkeypatch.setattr(service.batcher, "submit", spy_submit)
        monkeypatch.setattr(service.pool, "run", spy_run)
        text = "“We will revive the accord,” Lavrov said."
        ipv6, ipv4 = {"x-peer": "2001:db8:1:2::7"}, {"x-peer": "203.0.113.7"}
        r = c.post("/v1/analyze", json={"text": text, "topics": ["it"]}, headers=ipv6)
        assert r.status_code == 200, r.text
        assert c.post("/v1/quotes", json={"text": text}, headers=ipv4).status_code == 200
        item = {"text": "we support it", "topic": "it"}
        assert c.post("/v1/stance", json={"items": [item]}, headers=ipv4).status_code == 200
    assert seen == [
        ("text", "2001:db8:1:2::/64"),
        ("model", "2001:db8:1:2::/64"),
        ("text", "203.0.113.7"),
        ("model", "203.0.113.7"),
    ]


def test_the_routes_dependencies_run_on_the_event_loop_not_in_the_shared_thread_pool():
    """A plain-function dependency runs in the thread pool every request shares: with its 40
    threads taken (slow label writes, large responses), every request waited to look up a field.
    Only ``get_store`` may block (it opens the label database once), so only it is a function."""
    import inspect

    from fastapi.routing import APIRoute

    blocking_by_design = {"get_store"}

    def calls(dependant):
        for dependency in dependant.dependencies:
            yield dependency.call
            yield from calls(dependency)

    from serving.routes import ROUTERS

    found = {
        call.__name__: inspect.iscoroutinefunction(call)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for call in calls(route.dependant)
    }
    assert {"get_service", "require_started", "require_stance", "request_client"} <= set(found)
    assert [name for name, is_coroutine in found.items() if not is_coroutine] == sorted(blocking_by_design)
