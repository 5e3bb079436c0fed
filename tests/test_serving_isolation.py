"""No request hurts another: a bad item fails only its own request, requests share the model
queue fairly, work for a request nobody waits for is dropped, and worker errors keep their class."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.batcher import ItemRejectedError, MicroBatcher, QueueFullError
from serving.settings import ServiceSettings
from serving.workers import TextJobError, TextWorkerPool
from stance.errors import InputError, ParserUnavailable
from stance.model.classifier import StanceClassifier
from stance.pairs import StancePair, StancePrediction
from tests.workloads import SPIN, TASKS

LONG_TOPIC = " ".join(["deal"] * 40)  # past the tiny model's 32 tokens
SURROGATE = "x\ud800"  # valid JSON ("x\\ud800"), but not text: no UTF-8 encoding exists


def _pred(pair: StancePair) -> StancePrediction:
    return StancePrediction("none", 1.0, {"favor": 0.0, "against": 0.0, "none": 1.0})


def _pairs(n: int, tag: str) -> list[StancePair]:
    return [StancePair(f"{tag} {i}", "t") for i in range(n)]


def test_a_pair_the_model_rejects_fails_only_its_own_request(tiny_model):
    """Without the up-front check, the real tokenizer fails the shared batch; the batcher retries
    its pairs alone, so only the request holding the bad pair fails, naming it."""
    clf = StanceClassifier.from_pretrained(tiny_model)
    batches = []

    def predict(pairs):
        batches.append(len(pairs))
        return clf.predict(pairs)

    # readings long enough that every pair, the long topic's too, is of one length class and the
    # batcher runs them in one forward pass (it runs pairs of unlike length apart)
    support, oppose = "we support it, " * 16, "we oppose it, " * 16

    async def scenario():
        batcher = MicroBatcher(predict, max_batch_size=64, max_wait_ms=50)
        await batcher.start()
        results = await asyncio.gather(
            batcher.submit([StancePair(support, "it")] * 2),
            batcher.submit([StancePair(support, "t"), StancePair(oppose, LONG_TOPIC)]),
            batcher.submit([StancePair(oppose, "it")]),
            return_exceptions=True,
        )
        await batcher.stop()
        return results

    good, bad, other = asyncio.run(scenario())
    assert batches[0] == 5  # all three requests shared one forward pass, which failed
    assert [p.label for p in good] == [p.label for p in clf.predict([support] * 2, "it")]
    assert isinstance(bad, ItemRejectedError) and "items[1]" in str(bad)
    assert len(other) == 1 and isinstance(other[0], StancePrediction)


@pytest.fixture()
def client(tiny_model):
    with TestClient(create_app(ServiceSettings(model_path=str(tiny_model)))) as c:
        yield c


@pytest.mark.parametrize(
    ("item", "field", "named"),
    [
        ({"text": "we oppose it", "topic": LONG_TOPIC}, "topic", "items[1]: the topic is 40 tokens"),
        ({"text": "we oppose it", "topic": SURROGATE}, "topic", None),
        ({"text": SURROGATE, "topic": "it"}, "text", None),
        ({"text": "a", "topic": "it", "context": SURROGATE}, "context", None),
    ],
)
def test_an_unreadable_item_is_422_before_it_is_queued_and_others_are_served(client, item, field, named):
    body = {"items": [{"text": "we support it", "topic": "it"}, item]}
    # json.dumps escapes the surrogate as \ud800, as a client's JSON library would
    r = client.post("/v1/stance", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    if named:
        assert named in error["message"]
    else:  # the schema refuses text that is not unicode, naming the field
        assert [d["loc"][-3:] for d in error["details"]] == [["items", 1, field]]
    assert client.app.state.service.batcher.pending == 0
    ok = client.post("/v1/stance", json={"items": [{"text": "we support it", "topic": "it"}]})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1


def test_the_core_refuses_text_that_is_not_unicode(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    with pytest.raises(InputError, match=r"topics\[0\] holds an unpaired surrogate"):
        clf.predict(["we oppose it"], SURROGATE)
    with pytest.raises(InputError, match=r"pairs\[1\]: the topic is 40 tokens"):
        clf.predict([StancePair("a", "it"), StancePair("b", LONG_TOPIC)])


def test_an_analysis_with_a_topic_too_long_for_the_model_names_the_topic(client):
    text = "“We will revive the accord,” Lavrov said."
    r = client.post("/v1/analyze", json={"text": text, "topics": ["it", LONG_TOPIC]})
    assert r.status_code in (422, 503), r.text  # 503 only if this loaded machine ran out of budget
    if r.status_code == 422:
        assert "topics[1]: the topic is 40 tokens" in r.json()["error"]["message"]


def test_the_batcher_serves_requests_round_robin():
    """A one-pair request rides in the next forward pass, not behind a 200-pair request."""
    batches: list[list[str]] = []

    def predict(pairs):
        batches.append([p.reading.split()[0] for p in pairs])
        time.sleep(0.01)
        return [_pred(p) for p in pairs]

    async def scenario():
        batcher = MicroBatcher(predict, max_batch_size=8, max_wait_ms=0)
        await batcher.start()
        large = asyncio.create_task(batcher.submit(_pairs(200, "large")))
        await asyncio.sleep(0.03)  # the large request's first batches are running
        started = len(batches)
        small = await batcher.submit(_pairs(3, "small"))
        served_within = next(i for i, b in enumerate(batches) if "small" in b) - started
        await large
        await batcher.stop()
        return small, served_within

    small, served_within = asyncio.run(scenario())
    assert len(small) == 3
    assert served_within <= 1  # the next batch, or the one after the batch running when it came
    shared = next(b for b in batches if "small" in b)
    # an equal share each; the place the small request leaves is not handed to the large one
    assert shared.count("small") == 3 and shared.count("large") == 4
    assert sum(len(b) for b in batches) == 203


def test_a_large_request_holds_only_its_share_of_the_queue():
    async def scenario():
        loop = asyncio.get_running_loop()
        gate = asyncio.Event()

        def predict(pairs):
            asyncio.run_coroutine_threadsafe(gate.wait(), loop).result()
            return [_pred(p) for p in pairs]

        batcher = MicroBatcher(predict, max_batch_size=4, max_wait_ms=0, max_queue=100)
        await batcher.start()
        large = asyncio.create_task(batcher.submit(_pairs(400, "large")))
        await asyncio.sleep(0.05)
        assert batcher.pending == 25  # a quarter of the queue, though 396 pairs wait
        small = [asyncio.create_task(batcher.submit(_pairs(10, f"s{i}"))) for i in range(7)]
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFullError):
            await batcher.submit(_pairs(10, "one too many"))
        gate.set()
        assert [len(r) for r in await asyncio.gather(*small)] == [10] * 7
        assert len(await large) == 400
        await batcher.stop()

    asyncio.run(scenario())


def test_a_cancelled_request_drops_its_queued_pairs():
    seen: list[str] = []

    def predict(pairs):
        seen.extend(p.reading.split()[0] for p in pairs)
        time.sleep(0.02)
        return [_pred(p) for p in pairs]

    async def scenario():
        batcher = MicroBatcher(predict, max_batch_size=8, max_wait_ms=0)
        await batcher.start()
        gone = asyncio.create_task(batcher.submit(_pairs(400, "gone")))
        await asyncio.sleep(0.05)
        gone.cancel()  # what within_budget does when the client leaves or the budget is spent
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert batcher.pending == 0
        assert len(await batcher.submit(_pairs(2, "next"))) == 2
        await batcher.stop()

    asyncio.run(scenario())
    assert seen.count("gone") < 100 and seen.count("next") == 2


def test_a_check_failure_queues_nothing():
    def check(pairs, name):
        raise InputError(f"{name(0)}: no")

    async def scenario():
        batcher = MicroBatcher(lambda pairs: [_pred(p) for p in pairs], check=check)
        await batcher.start()
        with pytest.raises(InputError, match=r"items\[0\]: no"):
            await batcher.submit(_pairs(3, "x"))
        assert batcher.pending == 0
        await batcher.stop()

    asyncio.run(scenario())


WORKER_TASKS = {**TASKS, "parser": "tests.workloads:needs_a_parser", "bug": "tests.workloads:broken"}


def test_worker_errors_keep_their_class_and_the_worker_lives():
    async def scenario():
        pool = TextWorkerPool(1, tasks=WORKER_TASKS)
        await pool.start()
        (pid,) = pool.pids()
        with pytest.raises(ParserUnavailable, match="pip install"):
            await pool.run("parser", "text", budget_s=30)
        with pytest.raises(TextJobError, match="ValueError: a bug in the splitter"):
            await pool.run("bug", "text", budget_s=30)
        assert pool.pids() == [pid] and pool.replaced == 0
        await pool.stop()

    asyncio.run(scenario())


def test_a_worker_error_reaches_the_client_with_its_status(tiny_model):
    tasks = {**WORKER_TASKS, "quotes_with_context": "tests.workloads:needs_a_parser"}
    # a generous budget: a fresh worker takes seconds to start on a loaded machine
    settings = ServiceSettings(model_path=str(tiny_model), request_timeout_s=120)
    app = create_app(settings, pool=TextWorkerPool(1, tasks=tasks))
    with TestClient(app) as c:
        r = c.post("/v1/analyze", json={"text": "“Yes,” he said.", "topics": ["it"]})
        assert r.status_code == 503, r.text
        assert "pip install" in r.json()["error"]["message"]


def test_a_cancelled_job_is_interrupted_and_its_worker_kept():
    async def scenario():
        pool = TextWorkerPool(1, tasks=TASKS)
        await pool.start()
        (pid,) = pool.pids()
        job = asyncio.create_task(pool.run("quotes", SPIN, budget_s=600))
        while pool.busy == 0:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # spinning in the worker now
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        # the same worker answers the next job, long before the spinning job's 600 s budget
        quotes = await pool.run("quotes", "“Yes,” Lavrov said.", budget_s=120)
        assert quotes[0].speaker == "Lavrov"
        assert pool.pids() == [pid] and pool.replaced == 0
        await pool.stop()

    asyncio.run(scenario())


def test_api_payloads_are_what_the_response_models_would_write():
    """The routes build their JSON from core results without a validation pass; this pins that
    JSON, key order included, to what FastAPI would write through the response models."""
    from serving import schemas
    from serving.render import render
    from stance.analysis import TopicStance, analyze

    def predict(pairs):
        return [StancePrediction("favor", 0.5, {"none": 0.2, "against": 0.3, "favor": 0.5}) for _ in pairs]

    text = "Lavrov spoke.\n\n“We will revive the accord,” Lavrov said. Lavrov said the talks “failed”."
    analysis = analyze(text, ["the JCPOA", "Syria"], predict=predict, kinds=["direct", "mixed"])
    assert isinstance(analysis.quotes[0].stances[0], TopicStance)
    assert isinstance(analysis.quotes[0].stances[0], StancePrediction)  # one result type
    cases = [
        (schemas.AnalyzeResponse, schemas.analysis_payload(analysis)),
        (schemas.StanceResponse, schemas.stance_payload(predict([None, None]))),
        (schemas.QuotesResponse, schemas.quotes_payload([qa.quote for qa in analysis.quotes])),
    ]
    for model, payload in cases:
        assert render(payload) == render(model.model_validate(payload).model_dump(mode="json")), model
    assert len(analysis.quotes) == 2 and analysis.to_dict()["quotes"][0]["stances"][0]["topic"] == "the JCPOA"


def test_a_json_body_is_parsed_once(client, monkeypatch):
    calls = []
    loads = json.loads

    def counting_loads(*args, **kwargs):
        calls.append(args[0])
        return loads(*args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    body = b'{"items": [{"text": "we support it", "topic": "it"}]}'
    r = client.post("/v1/stance", content=body, headers={"content-type": "application/json"})
    monkeypatch.undo()
    assert r.status_code == 200, r.text
    assert calls == [body.decode()]  # the body guard's check; FastAPI reuses its value


def test_a_batch_runs_pairs_of_unlike_length_apart_and_answers_the_short_ones_first():
    """A forward pass pads every pair to its longest: bare quotes that shared a pass with quotes
    read with their paragraphs waited for, and paid for, the long ones."""
    passes: list[list[int]] = []

    def predict(pairs):
        time.sleep(0.2 if len(pairs[0].reading) > 100 else 0)
        passes.append(sorted({len(p.reading) for p in pairs}))  # recorded once the pass is done
        return [_pred(p) for p in pairs]

    async def scenario():
        batcher = MicroBatcher(predict, max_batch_size=64, max_wait_ms=50)
        await batcher.start()
        answered_after = []

        async def short_request():
            answer = await batcher.submit([StancePair("short", "it")] * 2, client="b")
            answered_after.append(len(passes))
            return answer

        _, short = await asyncio.gather(
            batcher.submit([StancePair("long " * 100, "it")] * 4, client="a"), short_request()
        )
        await batcher.stop()
        return short, answered_after[0]

    short, done_when_short_answered = asyncio.run(scenario())
    assert len(short) == 2 and passes == [[5], [500]]
    assert done_when_short_answered == 1  # answered while the long pass was still running
