"""The label store: rows round-trip, scopes stay apart, concurrent writers (threads and processes)
lose nothing, and a process killed with SIGKILL mid-writes loses no acknowledged label."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stance.data.examples import iter_file
from stance.data.labelstore import (
    MIGRATIONS,
    NOT_A_QUOTE,
    OPEN_SCOPE,
    LabelRecord,
    LabelStore,
    LabelStoreError,
    read_records,
    scope_of,
    write_records,
)
from stance.errors import DataError, InputError

ROOT = Path(__file__).resolve().parents[1]


def record(i: int, label: str = "favor", topic: str = "the deal") -> LabelRecord:
    return LabelRecord(
        text=f"we support the deal {i}",
        topic=topic,
        label=label,
        context="Lavrov met the envoy.",
        speaker="Sergei Lavrov",
        article_hash="ab" * 32,
        model_label="none",
        model_scores={"favor": 0.2, "against": 0.1, "none": 0.7},
        model_checksum="cd" * 32,
    )


def test_rows_round_trip_with_everything_the_model_saw(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    scope = scope_of("key-a")
    ids = store.add(scope, [record(1), record(2, "Against")])
    assert ids == [1, 2]
    rows, next_after = store.page(scope)
    assert next_after is None
    assert [r.label for r in rows] == ["favor", "against"]  # spellings are normalised
    first = rows[0]
    assert first.text == "we support the deal 1" and first.context == "Lavrov met the envoy."
    assert first.model_scores == {"favor": 0.2, "against": 0.1, "none": 0.7}
    assert first.speaker == "Sergei Lavrov" and first.model_checksum == "cd" * 32
    assert first.created_at is not None and abs(first.created_at - time.time()) < 3600
    # the key itself is nowhere in the file
    assert b"key-a" not in (tmp_path / "labels.sqlite3").read_bytes()


def test_scopes_are_apart_and_pages_follow_the_cursor(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    a, b = scope_of("key-a"), scope_of("key-b")
    store.add(a, [record(i) for i in range(5)])
    store.add(b, [record(100)])
    page1, cursor = store.page(a, limit=2)
    page2, cursor2 = store.page(a, after=cursor or 0, limit=2)
    page3, cursor3 = store.page(a, after=cursor2 or 0, limit=2)
    assert [len(page1), len(page2), len(page3)] == [2, 2, 1] and cursor3 is None
    assert [r.text for r in store.page(b)[0]] == ["we support the deal 100"]
    assert store.page(OPEN_SCOPE)[0] == []


def test_the_newest_label_of_an_item_wins_and_not_a_quote_is_kept_apart(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    store.add(OPEN_SCOPE, [record(1, "favor"), record(2, "none")])
    store.add(OPEN_SCOPE, [record(1, "against"), record(3, NOT_A_QUOTE)])
    latest = store.latest(OPEN_SCOPE)
    assert [(r.text[-1], r.label) for r in latest] == [("2", "none"), ("1", "against")]
    assert len(store.latest(OPEN_SCOPE, include_not_quotes=True)) == 3
    stats = store.stats()
    assert stats.rows == 4 and stats.items == 3
    assert stats.per_label == {"favor": 0, "against": 1, "none": 1, NOT_A_QUOTE: 1}
    assert stats.model_agreement == 0.5  # model said none: right on one, wrong on the other


def test_bad_records_are_refused_whole(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    with pytest.raises(InputError, match=r"labels\[1\]: label 'maybe'"):
        store.add(OPEN_SCOPE, [record(1), record(2, "maybe")])
    with pytest.raises(InputError, match="topic is empty"):
        store.add(OPEN_SCOPE, [LabelRecord(text="x", topic=" ", label="none")])
    assert store.stats().rows == 0


def test_export_is_what_evaluate_and_train_read_and_imports_back(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    store.add(OPEN_SCOPE, [record(1), record(2, "against"), record(3, NOT_A_QUOTE)])
    out = tmp_path / "labels.jsonl"
    assert write_records(store.latest(), out) == 2
    examples = list(iter_file(out))
    assert [(e.label, e.context) for e in examples] == [
        ("favor", "Lavrov met the envoy."),
        ("against", "Lavrov met the envoy."),
    ]
    again = list(read_records(out))
    assert [r.model_scores for r in again] == [record(1).model_scores] * 2
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "topic": "b", "label": "favor"}\n{"text": "a"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: missing or empty field 'topic'"):
        list(read_records(tmp_path / "bad.jsonl"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("context", 5, "field 'context' must be text or null, found the number 5"),
        ("speaker", {"a": 1}, "field 'speaker' must be text or null, found an object"),
        ("label", ["favor"], "field 'label' must be text, found a list"),
        ("created_at", "yesterday", "field 'created_at' must be a number .* found the text 'yesterday'"),
        ("created_at", float("nan"), "field 'created_at' must be a number"),
        ("model_scores", "high", "field 'model_scores' must be an object"),
        ("model_scores", {"favor": True}, "field 'model_scores' must map labels to numbers; 'favor' is true"),
        ("text", "\ud800 half a pair", "field 'text' holds an unpaired surrogate"),
    ],
)
def test_import_refuses_a_badly_typed_field_naming_line_and_field(tmp_path, field, value, message):
    good = {"text": "We will sign.", "topic": "the deal", "label": "favor"}
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, field: value}) + "\n")
    with pytest.raises(DataError, match=rf"bad.jsonl:2: {message}"):
        list(read_records(path))
    # the same check guards every writer (the service too): nothing of the call is stored
    store = LabelStore(tmp_path / "labels.sqlite3")
    with pytest.raises(InputError, match=rf"labels\[1\]: {message}"):
        store.add(OPEN_SCOPE, [LabelRecord(**good), LabelRecord(**{**good, field: value})])
    assert store.stats().rows == 0


def test_every_field_of_a_record_is_type_checked():
    """A field added to LabelRecord without a check here fails this test (it would store anything)."""
    good = {"text": "We will sign.", "topic": "the deal", "label": "favor"}
    for name in {f.name for f in dataclasses.fields(LabelRecord)} - {"id"}:
        with pytest.raises(InputError, match=rf"row: field '{name}' must be"):
            LabelRecord(**{**good, name: object()}).checked("row")


def test_import_names_the_line_that_is_not_utf8(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = b'{"text": "a", "topic": "b", "label": "favor"}\n'
    path.write_bytes(good + b'{"text": "\xff", "topic": "b", "label": "none"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: not valid UTF-8 \(byte 10 of the line\)"):
        list(read_records(path))


def test_every_imported_row_can_be_answered_by_the_api(tmp_path):
    """What import accepts, ``GET /v1/labels`` can return: whole numbers and times become floats."""
    from serving.routes.labels import LabelOut

    path = tmp_path / "labels.jsonl"
    row = {**record(1).to_example_row(), "id": 7, "created_at": 1700000000, "model_scores": {"favor": 1}}
    path.write_text(json.dumps(row) + "\n")
    store = LabelStore(tmp_path / "labels.sqlite3")
    store.add(OPEN_SCOPE, list(read_records(path)))
    (stored,), _ = store.page(OPEN_SCOPE)
    assert stored.created_at == 1700000000.0 and stored.model_scores == {"favor": 1.0}
    LabelOut.model_validate(dataclasses.asdict(stored))


def test_schema_is_versioned_and_a_newer_file_is_refused(tmp_path):
    path = tmp_path / "labels.sqlite3"
    assert LabelStore(path).version == len(MIGRATIONS)
    LabelStore(path)  # opening again migrates nothing
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(LabelStoreError, match="schema version 2; this code knows up to 1"):
        LabelStore(path)
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(LabelStoreError, match="cannot be opened"):
        LabelStore(tmp_path / "junk.sqlite3")


def test_a_file_that_is_not_a_label_database_is_bad_input_exit_2(tmp_path):
    from typer.testing import CliRunner

    from stance.data.labelstore import store_examples
    from stance_cli.app import app
    from stance_cli.errors import exit_code_for

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LabelStoreError) as caught:
        store_examples(f"labels:{junk}")  # a `labels:` spec of train, evaluate or adapt
    assert exit_code_for(caught.value) == 2
    result = CliRunner().invoke(app, ["labels", "stats", "--db", str(junk)])
    assert result.exit_code == 2 and "cannot be opened" in result.output, (result.output, result.exception)


def test_concurrent_threads_lose_no_label(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    ids: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(25):
            got = store.add(scope_of(f"key-{n % 2}"), [record(n * 1000 + i)])
            with lock:
                ids.extend(got)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == len(set(ids)) == 200
    assert store.stats().rows == 200 and store.integrity() == "ok"


def _process_writer(path: str, n: int, count: int) -> None:
    store = LabelStore(path)
    for i in range(count):
        store.add(OPEN_SCOPE, [record(n * 1000 + i), record(n * 1000 + i, "none", topic="iran")])


def test_concurrent_processes_lose_no_label(tmp_path):
    path = str(tmp_path / "labels.sqlite3")
    LabelStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(path, n, 20)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = LabelStore(path)
    assert store.stats().rows == 160 and store.integrity() == "ok"


# a server that prints the id of each label it acknowledged, as fast as it can, until killed
KILLED_WRITER = """
import sys
from stance.data.labelstore import LabelRecord, LabelStore
store = LabelStore(sys.argv[1])
i = 0
while True:
    ids = store.add("open", [LabelRecord(text=f"quote {i}", topic="t", label="favor"),
                             LabelRecord(text=f"quote {i}", topic="u", label="none")])
    print(i, *ids, flush=True)
    i += 1
"""


def test_a_process_killed_mid_writes_keeps_every_acknowledged_label(tmp_path):
    path = tmp_path / "labels.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append([int(x) for x in line.split()])
        if len(acknowledged) >= 200:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acknowledged += [[int(x) for x in line.split()] for line in proc.stdout.read().splitlines() if line]
    store = LabelStore(path)
    assert store.integrity() == "ok"
    stored = {r.id: r for r in store.rows()}
    for i, first, second in acknowledged:
        assert stored[first].text == stored[second].text == f"quote {i}"
    # the transaction in flight is all or nothing: never one row of a pair
    assert len(stored) % 2 == 0
