"""``/v1/labels``: store and page back, scoped to the key, bad input refused, and a real server
killed with SIGKILL while clients write keeps every label it answered 201 for."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.routes.labels import LabelIn
from serving.settings import ServiceSettings
from stance.data.labelstore import LabelRecord, LabelStore, scope_of

ROOT = Path(__file__).resolve().parents[1]


def label(i: int, value: str = "favor", **extra) -> dict:
    return {
        "text": f"We will revive the accord {i}.",
        "topic": "the JCPOA",
        "label": value,
        "context": "Lavrov met the envoy.",
        "speaker": "Sergei Lavrov",
        "article_hash": "ab" * 32,
        "model_label": "none",
        "model_scores": {"favor": 0.3, "against": 0.1, "none": 0.6},
        **extra,
    }


def app_with(tiny_model, db: Path, key: str | None = None, **settings):
    return create_app(ServiceSettings(model_path=str(tiny_model), labels_db=db, api_key=key, **settings))


def test_api_fields_are_the_core_record_fields():
    core = {f.name for f in dataclasses.fields(LabelRecord)} - {"id", "created_at"}
    assert set(LabelIn.model_fields) == core | {"span"}


def test_labels_are_stored_with_the_served_model_and_paged_back(tiny_model, tmp_path):
    db = tmp_path / "labels.sqlite3"
    with TestClient(app_with(tiny_model, db)) as client:
        r = client.post("/v1/labels", json={"labels": [label(i) for i in range(5)]})
        assert r.status_code == 201 and r.json() == {"ids": [1, 2, 3, 4, 5], "stored": 5}
        page = client.get("/v1/labels", params={"limit": 2}).json()
        assert [row["id"] for row in page["labels"]] == [1, 2] and page["next_after"] == 2
        first = page["labels"][0]
        assert (
            first["model_checksum"]
            == hashlib.sha256((tiny_model / "model.safetensors").read_bytes()).hexdigest()
        )
        assert first["model_scores"] == {"favor": 0.3, "against": 0.1, "none": 0.6}
        assert first["speaker"] == "Sergei Lavrov" and first["context"] == "Lavrov met the envoy."
        rest = client.get("/v1/labels", params={"after": 2, "format": "jsonl", "limit": 2})
        assert rest.headers["content-type"].startswith("application/x-ndjson")
        assert [json.loads(line)["id"] for line in rest.text.splitlines()] == [3, 4]
        assert rest.headers["x-next-after"] == "4"
        last = client.get("/v1/labels", params={"after": 4, "format": "jsonl"})
        assert len(last.text.splitlines()) == 1 and "x-next-after" not in last.headers
    assert LabelStore(db).stats().rows == 5


def test_each_key_sees_only_its_own_labels_and_the_key_is_not_stored(tiny_model, tmp_path):
    db = tmp_path / "labels.sqlite3"
    with TestClient(app_with(tiny_model, db, key="key-a")) as a:
        assert a.post("/v1/labels", json={"labels": [label(1)]}).status_code == 401
        auth = {"Authorization": "Bearer key-a"}
        assert a.post("/v1/labels", json={"labels": [label(1)]}, headers=auth).status_code == 201
        assert len(a.get("/v1/labels", headers=auth).json()["labels"]) == 1
    with TestClient(app_with(tiny_model, db, key="key-b")) as b:
        auth = {"X-API-Key": "key-b"}
        assert b.get("/v1/labels", headers=auth).json() == {"labels": [], "next_after": None}
        assert b.post("/v1/labels", json={"labels": [label(2), label(3)]}, headers=auth).status_code == 201
        assert len(b.get("/v1/labels", headers=auth).json()["labels"]) == 2
    store = LabelStore(db)
    assert len(store.page(scope_of("key-a"))[0]) == 1 and len(store.page(scope_of("key-b"))[0]) == 2
    assert b"key-a" not in db.read_bytes() and b"key-b" not in db.read_bytes()


def test_a_span_is_read_exactly_as_the_analysis_fed_the_model(tiny_model, tmp_path):
    from stance.analysis import quotes_with_context, stance_pairs

    article = (
        "Foreign Minister Sergei Lavrov met Iran's envoy.\n\n"
        "Lavrov said that the accord was “worth saving” for the region.\n\n"
        "“We will revive the accord,” Lavrov said."
    )
    found = quotes_with_context(article)
    pairs = stance_pairs(article, found, ["the JCPOA"])
    spans = [
        {
            k: q.to_dict()[k]
            for k in ("text", "start", "end", "kind", "paragraph", "sentence_start", "sentence_end")
        }
        for q, _ in found
    ]
    body = {
        "article": article,
        "labels": [{"topic": "the JCPOA", "label": "favor", "span": span} for span in spans],
    }
    with TestClient(app_with(tiny_model, tmp_path / "labels.sqlite3")) as client:
        assert client.post("/v1/labels", json=body).status_code == 201
        rows = client.get("/v1/labels").json()["labels"]
        missing = client.post("/v1/labels", json={"labels": body["labels"]})
        assert missing.status_code == 422 and "send the article" in missing.json()["error"]["message"]
    assert [(r["text"], r["context"]) for r in rows] == [(p.reading, p.context) for p in pairs]
    assert {r["article_hash"] for r in rows} == {hashlib.sha256(article.encode()).hexdigest()}
    assert [r["quote"] for r in rows] == [q.text for q, _ in found]
    assert "Foreign Minister" not in json.dumps([r["text"] for r in rows])  # the article is not stored


def _spans_into(article: str, n: int) -> list[dict]:
    """``n`` labels, each with a span on one line of an article of one-sentence lines."""
    lines = article.split("\n")
    labels, start = [], 0
    for paragraph, line in enumerate(lines[:n]):
        span = {
            "text": line,
            "start": start,
            "end": start + len(line),
            "kind": "mixed",
            "paragraph": paragraph,
            "sentence_start": start,
            "sentence_end": start + len(line),
        }
        labels.append({"topic": "it", "label": "none", "span": span})
        start += len(line) + 1
    return labels


def test_an_article_is_split_into_paragraphs_once_however_many_spans_point_into_it(
    tiny_model, tmp_path, monkeypatch
):
    """Before, every span split the whole article again: 256 spans into a 200,000-character
    article cost 46 s of CPU in the thread pool every request shares."""
    import stance.analysis

    splits = []
    split = stance.analysis.paragraphs

    def counting_split(text: str) -> list[tuple[int, int]]:
        splits.append(len(text))
        return split(text)

    monkeypatch.setattr(stance.analysis, "paragraphs", counting_split)
    article = "\n".join(f"line {i}." for i in range(2000))
    body = {"article": article, "labels": _spans_into(article, 256)}
    with TestClient(app_with(tiny_model, tmp_path / "labels.sqlite3")) as client:
        assert client.post("/v1/labels", json=body).status_code == 201
        rows = client.get("/v1/labels", params={"limit": 1000}).json()["labels"]
    assert splits == [len(article)]
    assert [(r["text"], r["context"]) for r in rows] == [(f"line {i}.", f"line {i}.") for i in range(256)]


def test_a_span_whose_reading_is_past_the_quote_limit_is_413_and_nothing_is_stored(tiny_model, tmp_path):
    """A span's sentence offsets may cover the whole article: one request of 256 such spans
    stored 256 copies of it (51 MB from a 2 MB body) before readings were held to max_quote_chars."""
    article = "\n".join(f"line {i}." for i in range(100))
    labels = _spans_into(article, 2)
    labels[1]["span"] |= {"sentence_start": 0, "sentence_end": len(article)}
    db = tmp_path / "labels.sqlite3"
    with TestClient(app_with(tiny_model, db, max_quote_chars=200)) as client:
        r = client.post("/v1/labels", json={"article": article, "labels": labels})
        assert r.status_code == 413 and "labels[1].span's reading has" in r.json()["error"]["message"], r.text
        assert client.get("/v1/labels").json()["labels"] == []
        del labels[1]
        assert client.post("/v1/labels", json={"article": article, "labels": labels}).status_code == 201


def test_labels_past_the_time_budget_are_503_and_nothing_is_stored(tiny_model, tmp_path, monkeypatch):
    """POST /v1/labels runs within request_timeout_s, as the other /v1 routes do (before: no budget)."""
    import stance.analysis

    split = stance.analysis.paragraphs

    def slow_split(text: str) -> list[tuple[int, int]]:
        time.sleep(2)
        return split(text)

    monkeypatch.setattr(stance.analysis, "paragraphs", slow_split)
    article = "\n".join(f"line {i}." for i in range(10))
    body = {"article": article, "labels": _spans_into(article, 3)}
    db = tmp_path / "labels.sqlite3"
    with TestClient(app_with(tiny_model, db, request_timeout_s=0.3)) as client:
        started = time.perf_counter()
        r = client.post("/v1/labels", json=body)
        assert r.status_code == 503 and r.json()["error"]["code"] == "timeout", r.text
        assert time.perf_counter() - started < 1.5
        assert client.get("/v1/labels").json()["labels"] == []


@pytest.mark.parametrize(
    "body, status, where",
    [
        ({"labels": []}, 422, "labels"),
        ({"labels": [label(1, "maybe")]}, 422, "label"),
        ({"labels": [label(1, text="")]}, 422, "text"),
        ({"labels": [label(1, article_hash="not-a-hash")]}, 422, "article_hash"),
        ({"labels": [label(1, surprise=True)]}, 422, "surprise"),
        ({"labels": [label(1, model_scores={"favor": 2, "against": 0, "none": 0})]}, 422, "favor"),
        ({"labels": [label(i) for i in range(9)]}, 413, None),
    ],
)
def test_bad_labels_are_refused_and_nothing_is_stored(tiny_model, tmp_path, body, status, where):
    db = tmp_path / "labels.sqlite3"
    with TestClient(app_with(tiny_model, db, max_items=8)) as client:
        r = client.post("/v1/labels", json=body)
        assert r.status_code == status, r.text
        error = r.json()["error"]
        if where:
            assert error["code"] == "invalid_request"
            assert any(where in map(str, d["loc"]) for d in error["details"]), error
        assert client.get("/v1/labels").json()["labels"] == []
        assert client.get("/v1/labels", params={"format": "xml"}).status_code == 422
        assert client.get("/v1/labels", params={"limit": 0}).status_code == 422


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_killed_mid_writes_keeps_every_acknowledged_label(tiny_model, tmp_path):
    db = tmp_path / "labels.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "STANCE_MODEL_PATH": str(tiny_model),
        "STANCE_LABELS_DB": str(db),
        "STANCE_API_KEY": "kill-key",
        "OMP_NUM_THREADS": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "stance_cli", "serve", "--port", str(port), "--text-workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer kill-key"}
    acknowledged: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=10) as http:
            i = 0
            while not stop.is_set():
                body = {"labels": [label(n * 100_000 + i)]}
                try:
                    r = http.post(url + "/v1/labels", json=body, headers=headers)
                except httpx.HTTPError:
                    return  # the server is gone: this request was never acknowledged
                if r.status_code == 201:
                    with lock:
                        acknowledged.append((body["labels"][0]["text"], r.json()["ids"][0]))
                i += 1

    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server never became ready")
        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(acknowledged) < 100 and time.time() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(acknowledged) >= 100
    store = LabelStore(db)
    assert store.integrity() == "ok"
    stored = {r.id: r.text for r in store.rows(scope_of("kill-key"))}
    missing = [(text, i) for text, i in acknowledged if stored.get(i) != text]
    assert not missing


def test_a_context_past_the_stance_limit_is_413(tiny_model, tmp_path):
    with TestClient(app_with(tiny_model, tmp_path / "labels.sqlite3", max_context_chars=50)) as client:
        r = client.post("/v1/labels", json={"labels": [label(1, context="x" * 51)]})
        assert r.status_code == 413 and "labels[0].context has 51 characters" in r.text, r.text
        assert client.post("/v1/labels", json={"labels": [label(1, context="x" * 50)]}).status_code == 201


def test_a_page_ends_early_past_its_text_budget_and_the_next_page_goes_on(tiny_model, tmp_path, monkeypatch):
    """A page of 1,000 imported rows with long contexts was one response of hundreds of MB."""
    import serving.routes.labels as labels_route

    per_row = sum(len(v) for v in label(1).values() if isinstance(v, str)) + 2 * 64
    monkeypatch.setattr(labels_route, "MAX_PAGE_CHARS", 3 * per_row)
    with TestClient(app_with(tiny_model, tmp_path / "labels.sqlite3")) as client:
        client.post("/v1/labels", json={"labels": [label(i) for i in range(8)]})
        seen, after, pages = [], 0, 0
        while after is not None:
            page = client.get("/v1/labels", params={"after": after, "limit": 100}).json()
            seen += [row["id"] for row in page["labels"]]
            after, pages = page["next_after"], pages + 1
    assert seen == list(range(1, 9)) and pages >= 3
