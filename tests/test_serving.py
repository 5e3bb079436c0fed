"""The HTTP API with a tiny model: every endpoint and error, batching, and a real server."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.batcher import MicroBatcher, QueueFullError
from serving.settings import ServiceSettings
from stance.model.classifier import StanceClassifier
from stance.pairs import StancePair

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = (
    "Foreign Minister Sergei Lavrov met Iran's envoy.\n\n"
    "“We will revive the accord,” Lavrov said.\n\n"
    "“The deal is good for the region,” he added."
)


@pytest.fixture()
def client(tiny_model):
    settings = ServiceSettings(
        model_path=str(tiny_model),
        max_items=8,
        max_text_chars=5000,
        max_body_bytes=20_000,
        max_topics=3,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_health_ready_and_model_info(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200
    info = client.get("/v1/model").json()
    assert info["loaded"] is True and info["labels"] == ["favor", "against", "none"]
    assert info["quantized"] is False and info["name"] == "model"
    ready = client.get("/ready").json()
    assert ready["capabilities"] == {"quotes": True, "stance": True} and ready["model"] == "model"


def test_quotes_endpoint(client):
    body = client.post("/v1/quotes", json={"text": ARTICLE}).json()
    assert [q["speaker"] for q in body["quotes"]] == ["Sergei Lavrov", "Sergei Lavrov"]
    assert set(body["quotes"][0]) >= {
        "text",
        "start",
        "end",
        "speaker_mention",
        "cue",
        "kind",
        "paragraph",
        "group",
    }


def test_stance_endpoint_keeps_input_order(client):
    items = [{"text": f"text number {i}", "topic": "the deal"} for i in range(5)]
    items[2]["context"] = "the deal is the jcpoa"
    results = client.post("/v1/stance", json={"items": items}).json()["results"]
    model = StanceClassifier.from_pretrained(client.app.state.service.settings.model_path)
    expected = model.predict(
        [i["text"] for i in items], "the deal", contexts=[i.get("context") for i in items]
    )
    assert [r["label"] for r in results] == [p.label for p in expected]
    for r in results:
        assert abs(sum(r["scores"].values()) - 1) < 1e-4


def test_analyze_endpoint(client):
    body = client.post("/v1/analyze", json={"text": ARTICLE, "topics": ["the JCPOA", "Syria"]})
    data = body.json()
    assert len(data["quotes"]) == 2
    assert [s["topic"] for s in data["quotes"][0]["stances"]] == ["the JCPOA", "Syria"]
    summary = {(s["speaker"], s["topic"]): s for s in data["speakers"]}
    assert summary[("Sergei Lavrov", "the JCPOA")]["quotes"] == 2


def test_a_stance_context_over_its_limit_is_413_naming_the_item(tiny_model):
    """Every context is tokenised in full on the one model thread all clients share; before, a
    100,000-character context per item was taken (/v1/analyze sends at most 600)."""
    settings = ServiceSettings(model_path=str(tiny_model))
    with TestClient(create_app(settings)) as c:
        paragraph = {"text": "we support it", "topic": "it", "context": "a " * 300}
        article = {"text": "we support it", "topic": "it", "context": "a " * 50_000}
        r = c.post("/v1/stance", json={"items": [paragraph, article]})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large", r.text
        limit = settings.max_context_chars
        message = r.json()["error"]["message"]
        assert f"items[1].context has 100000 characters; limit {limit}" in message
        assert c.app.state.service.batcher.pending == 0
        at_limit = {**paragraph, "context": "a" * limit}
        assert c.post("/v1/stance", json={"items": [paragraph, at_limit]}).status_code == 200


BAD_REQUESTS = [
    (
        "post",
        "/v1/stance",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
    ),
    ("post", "/v1/stance", {"json": {"items": "nope"}}, 422),
    ("post", "/v1/stance", {"json": {"items": []}}, 422),
    ("post", "/v1/stance", {"json": {"items": [{"text": "a", "topic": "t", "extra": 1}]}}, 422),
    ("post", "/v1/stance", {"json": {"items": [{"text": "   ", "topic": "t"}]}}, 422),
    ("post", "/v1/stance", {"json": {"items": [{"text": "a", "topic": ""}]}}, 422),
    ("post", "/v1/stance", {"json": {"items": [{"text": 5, "topic": "t"}]}}, 422),
    ("post", "/v1/stance", {"json": {"items": [{"text": "a", "topic": "t"}] * 9}}, 413),
    ("post", "/v1/quotes", {"json": {"text": "x" * 6000}}, 413),
    (
        "post",
        "/v1/quotes",
        {"content": b"x" * 30_000, "headers": {"content-type": "application/json"}},
        413,
    ),
    ("post", "/v1/quotes", {"json": {}}, 422),
    ("post", "/v1/quotes", {"json": {"text": None}}, 422),
    ("post", "/v1/analyze", {"json": {"text": "a", "topics": []}}, 422),
    ("post", "/v1/analyze", {"json": {"text": "a", "topics": ["a", "b", "c", "d"]}}, 413),
    ("post", "/v1/analyze", {"json": {"text": "a", "topics": [""]}}, 422),
    ("post", "/v1/analyze", {"json": ["not", "an", "object"]}, 422),
    ("get", "/v1/stance", {}, 405),
    ("get", "/no/such/path", {}, 404),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_REQUESTS)
def test_bad_requests_get_clear_json_errors(client, method, path, kwargs, status):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]


def test_server_still_answers_after_a_battery_of_bad_requests(client):
    for method, path, kwargs, _ in BAD_REQUESTS * 3:
        assert getattr(client, method)(path, **kwargs).status_code < 500
    ok = client.post("/v1/stance", json={"items": [{"text": "we support it", "topic": "it"}]})
    assert ok.status_code == 200


def test_api_key(tiny_model):
    settings = ServiceSettings(model_path=str(tiny_model), api_key="s3cret")
    with TestClient(create_app(settings)) as c:
        body = {"text": ARTICLE}
        assert c.post("/v1/quotes", json=body).status_code == 401
        assert c.post("/v1/quotes", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.post("/v1/quotes", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200


def test_not_ready_answers_503(tiny_model):
    app = create_app(ServiceSettings(model_path=str(tiny_model)))
    c = TestClient(app)  # no context manager: lifespan has not run, the model is not loaded
    assert c.get("/ready").status_code == 503
    r = c.post("/v1/stance", json={"items": [{"text": "a", "topic": "t"}]})
    assert r.status_code == 503 and r.headers["retry-after"]


def test_metrics_count_requests_batches_and_labels(client):
    client.post("/v1/stance", json={"items": [{"text": "a b", "topic": "t"}] * 3})
    text = client.get("/metrics").text
    assert 'stance_requests_total{method="POST",path="/v1/stance",status="200"} 1.0' in text
    assert "stance_batch_size_count 1.0" in text
    assert "stance_predictions_total" in text and "stance_request_latency_seconds" in text


def test_without_a_model_quotes_work_and_stance_says_how_to_get_one(tmp_path, caplog):
    caplog.set_level("WARNING", logger="serving.lifespan")
    with TestClient(create_app(ServiceSettings(model_path=str(tmp_path / "absent")))) as c:
        (paragraph,) = [r.getMessage() for r in caplog.records if "without a stance model" in r.getMessage()]
        assert "/v1/quotes" in paragraph and "503" in paragraph and "stance train" in paragraph
        assert c.get("/health").status_code == 200
        ready = c.get("/ready").json()
        assert ready["capabilities"] == {"quotes": True, "stance": False}
        assert "absent" in ready["stance_unavailable"]
        assert c.post("/v1/quotes", json={"text": ARTICLE}).json()["quotes"][0]["speaker"] == "Sergei Lavrov"
        info = c.get("/v1/model").json()
        assert info["loaded"] is False and "stance train" in info["message"]
        for path, body in (
            ("/v1/stance", {"items": [{"text": "a", "topic": "t"}]}),
            ("/v1/analyze", {"text": ARTICLE, "topics": ["the JCPOA"]}),
        ):
            r = c.post(path, json=body)
            assert r.status_code == 503, r.text
            error = r.json()["error"]
            assert error["code"] == "stance_unavailable"
            assert "stance train configs/quick.yaml" in error["message"]


def test_a_corrupt_model_stops_startup(tiny_model, tmp_path):
    import shutil

    from stance.model.classifier import ModelLoadError

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelLoadError, match="broken"):
        with TestClient(create_app(ServiceSettings(model_path=str(broken)))):
            pass


def test_batcher_merges_concurrent_requests_and_bounds_the_queue():
    sizes = []

    def predict(pairs):
        time.sleep(0.05)
        return [f"{p.reading}|{p.topic}" for p in pairs]

    async def scenario():
        batcher = MicroBatcher(
            predict,
            max_batch_size=64,
            max_wait_ms=20,
            max_queue=10,
            on_batch=lambda n, s: sizes.append(n),
        )
        await batcher.start()
        results = await asyncio.gather(*[batcher.submit([StancePair(f"t{i}", "x")]) for i in range(8)])
        assert [r[0] for r in results] == [f"t{i}|x" for i in range(8)]
        with pytest.raises(QueueFullError):
            # each request holds at most a quarter of the queue (2 places here): six want 12 of 10
            await asyncio.gather(*[batcher.submit([StancePair("a", "b")] * 11) for _ in range(6)])
        await batcher.stop()

    asyncio.run(scenario())
    assert max(sizes) > 1  # requests shared a forward pass


def test_batcher_without_batching_runs_each_request_alone():
    sizes = []

    async def scenario():
        batcher = MicroBatcher(list, enabled=False, on_batch=lambda n, s: sizes.append(n))
        await batcher.start()
        await asyncio.gather(*[batcher.submit([StancePair("a", "b")]) for _ in range(5)])
        await batcher.stop()

    asyncio.run(scenario())
    assert sizes == [1] * 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_subprocess_serves_and_shuts_down_cleanly(tiny_model):
    port = _free_port()
    env = {**os.environ, "STANCE_MODEL_PATH": str(tiny_model), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stance_cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # importing torch alone can take a minute on a loaded 2-core machine
        deadline = time.time() + 240
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server never became ready")
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/analyze",
            json={"text": ARTICLE, "topics": ["the JCPOA"]},
            timeout=30,
        )
        assert r.status_code == 200 and len(r.json()["quotes"]) == 2
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=120)
    # uvicorn re-raises SIGTERM after its graceful shutdown
    assert proc.returncode in (0, -15), out
    assert "Application shutdown complete" in out


def test_two_workers_share_correct_metrics(tiny_model, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "STANCE_MODEL_PATH": str(tiny_model),
        "OMP_NUM_THREADS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "stance_cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        body = {"items": [{"text": "we support it", "topic": "it"}]}
        for _ in range(12):
            assert httpx.post(url + "/v1/stance", json=body, timeout=30).status_code == 200
        metrics = httpx.get(url + "/metrics", timeout=10).text
        line = next(
            line
            for line in metrics.splitlines()
            if line.startswith('stance_requests_total{method="POST",path="/v1/stance"')
        )
        assert line.endswith(" 12.0")
    finally:
        proc.terminate()
        proc.wait(timeout=120)
