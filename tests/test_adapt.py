"""Adapting a tiny trained model to a user's labels, and the ``stance labels`` / ``evaluate labels:``
commands around it: the adapted folder is an ordinary model folder with before/after figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.config import load_config
from stance.data.labelstore import LabelStore
from stance.errors import DataError, InputError
from stance.model.classifier import StanceClassifier
from stance_cli.app import app
from tests.conftest import ROWS, SMOKE_CONFIG, tiny_config
from training.adapt import ADAPT_RESULTS, AdaptOptions, adapt, fold_of
from training.train import train

USER_ROWS = [
    ("we love the tax cut", "tax", "favor"),
    ("great tax cut for all", "tax", "favor"),
    ("we support a tax cut", "tax", "favor"),
    ("we hate the tax cut", "tax", "against"),
    ("terrible tax cut", "tax", "against"),
    ("we oppose a tax cut", "tax", "against"),
    ("the war is about climate", "tax", "none"),
    ("vote for peace", "tax", "none"),
]


@pytest.fixture()
def trained_model(tiny_base, data_dir, tmp_path) -> Path:
    """A tiny model trained from a config (so it records its data and dev split)."""
    return train(tiny_config(tiny_base, {"data.dev_fraction": "0.2"}, max_steps=2), tmp_path / "base")


@pytest.fixture()
def labels_file(tmp_path) -> Path:
    path = tmp_path / "mine.jsonl"
    rows = [
        {"text": f"{text} {i}", "topic": topic, "label": label, "context": "the talks"}
        for i in range(2)
        for text, topic, label in USER_ROWS
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


FAST = AdaptOptions(epochs=1, batch_size=8, folds=2, min_replay=8, dev_examples=12, num_threads=1)


def test_adapt_writes_a_loadable_model_folder_with_before_and_after(trained_model, labels_file, tmp_path):
    out = tmp_path / "mine"
    report = adapt(trained_model, labels_file, out, FAST)

    clf = StanceClassifier.from_pretrained(out)  # checksums verified
    assert len(clf.predict(["we love the tax cut"], "tax")) == 1
    assert json.loads((out / ADAPT_RESULTS).read_text()) == report
    assert report["labels"] == 16 and report["topics"] == {"tax": 16}
    assert report["replay"] >= 8
    held = report["held_out"]
    assert held["n"] == 8 and held["folds"] == "1 of 2"  # one of two folds: half the texts
    assert set(held["before"]) >= {"macro_f1", "f_avg", "per_topic"} and "tax" in held["after"]["per_topic"]
    assert report["dev"]["n"] > 0 and set(report["dev"]["after"]) == {"n", "accuracy", "macro_f1", "f_avg"}
    card = (out / "README.md").read_text()
    assert "(adapted)" in card and "16 user labels" in card and "tax (16)" in card
    assert str(trained_model) in card and report["base_model"]["weights_sha256"] in card
    # the model's training data stays the base model's, so a later adapt replays the same rows
    assert (out / "resolved_config.yaml").read_text() == (trained_model / "resolved_config.yaml").read_text()


def test_adapt_trains_at_the_training_length_and_reads_what_the_folder_read(
    tiny_base, data_dir, labels_file, tmp_path
):
    cfg = tiny_config(tiny_base, {"data.dev_fraction": "0.2", "model.read_length": "64"}, max_steps=2)
    base = train(cfg, tmp_path / "base")  # trained on 32 tokens, reads 64
    out = tmp_path / "mine"
    adapt(base, labels_file, out, FAST)
    assert StanceClassifier.from_pretrained(out).max_length == 64
    assert load_config(out / "resolved_config.yaml").model.max_length == 32


def test_adapt_refuses_too_few_labels_and_leaves_no_folder(trained_model, tmp_path):
    few = tmp_path / "few.jsonl"
    few.write_text(json.dumps({"text": "we love the tax cut", "topic": "tax", "label": "favor"}) + "\n")
    with pytest.raises(DataError, match="too few for 2 folds"):
        adapt(trained_model, few, tmp_path / "out", FAST)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("field", "value"), [("replay", "nan"), ("replay", "inf"), ("epochs", "inf"), ("lr", "nan")]
)
def test_adapt_options_refuse_nan_and_inf(field, value):
    from dataclasses import replace

    with pytest.raises(InputError, match=f"{field}={value}; expected a finite number"):
        replace(FAST, **{field: float(value)}).check()


def test_adapt_command_refuses_replay_inf_before_loading_anything(labels_file, tmp_path):
    args = [
        "adapt",
        str(tmp_path / "no-model"),
        str(labels_file),
        "-o",
        str(tmp_path / "out"),
        "--replay",
        "inf",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "replay=inf" in result.output, (result.output, result.exception)
    assert not (tmp_path / "out").exists()


def test_folds_keep_each_text_on_one_side():
    from stance.data.examples import Example

    rows = [Example(text=f"t{i % 4}", topic=f"topic {i}", label="none") for i in range(12)]
    folds = fold_of(rows, 2, seed=0)
    by_text = {}
    for row, fold in zip(rows, folds, strict=True):
        assert by_text.setdefault(row.text, fold) == fold
    assert set(folds) == {0, 1}


def test_labels_cli_round_trip_evaluate_and_adapt(trained_model, labels_file, tmp_path):
    runner = CliRunner()
    db = tmp_path / "labels.sqlite3"
    result = runner.invoke(app, ["labels", "import", str(labels_file), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert LabelStore(db).stats().rows == 16

    stats = runner.invoke(app, ["labels", "stats", "--db", str(db), "--format", "json"])
    assert stats.exit_code == 0, stats.output
    counts = json.loads(stats.stdout)
    assert counts["items"] == 16 and counts["per_label"]["favor"] == 6

    exported = tmp_path / "export.jsonl"
    assert runner.invoke(app, ["labels", "export", str(exported), "--db", str(db)]).exit_code == 0
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [(r["text"], r["label"]) for r in rows] == [
        (json.loads(line)["text"], json.loads(line)["label"]) for line in labels_file.read_text().splitlines()
    ]
    # re-importing the export adds the same items again; the newest label per item still wins
    assert runner.invoke(app, ["labels", "import", str(exported), "--db", str(db)]).exit_code == 0
    assert LabelStore(db).stats().items == 16

    out = tmp_path / "eval"
    result = runner.invoke(app, ["evaluate", str(trained_model), f"labels:{db}", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"labels:{db}" in result.output and "16" in result.output
    assert (out / "confusion_matrix.png").is_file()
    assert json.loads((out / "eval_results.json").read_text())[f"labels:{db}"]["per_topic"]["tax"]["n"] == 16

    adapted = tmp_path / "adapted"
    args = ["adapt", str(trained_model), f"labels:{db}", "--output", str(adapted), "--epochs", "1"]
    result = runner.invoke(app, [*args, "--folds", "2", "--dev-examples", "8"])
    assert result.exit_code == 0, result.output
    assert "your labels (held-out folds)" in result.output and (adapted / "checksums.json").is_file()

    missing = runner.invoke(app, ["labels", "stats", "--db", str(tmp_path / "none.sqlite3")])
    assert missing.exit_code == 3 and "no label database" in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "topic": "b", "label": "maybe"}\n')
    result = runner.invoke(app, ["labels", "import", str(bad), "--db", str(db)])
    assert result.exit_code == 2 and "bad.jsonl:1" in result.output


def test_replay_rows_keep_their_label_distribution(tmp_path):
    from stance.data.examples import Example, iter_file
    from training.adapt import _write_jsonl

    rows = [Example("a", "t", "favor", probs=(0.6, 0.1, 0.3)), Example("b", "t", "none", context="c")]
    path = _write_jsonl(rows, tmp_path / "replay.jsonl")
    assert "probs" not in path.read_text()
    assert list(iter_file(path))[1] == rows[1]
    (soft,) = iter_file(
        _write_jsonl(rows[:1], tmp_path / "one.jsonl"), probs=("p_favor", "p_against", "p_none")
    )
    assert soft.probs == pytest.approx((0.6, 0.1, 0.3)) and soft.label == "favor"


def test_replay_repeats_no_test_text_and_needs_the_test_sets(data_dir, tmp_path):
    # the replayed rows are the model's training rows: none repeats a text of its data.eval sets,
    # and where those cannot be read nothing is replayed (the dev rows stay)
    from stance.config import load_config
    from training.adapt import original_data

    tested = [f"{t} {i}" for t, _, _ in ROWS for i in range(2)]
    test_file = tmp_path / "test.jsonl"
    rows = [{"text": t, "topic": "x", "label": "none"} for t in tested]
    test_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = load_config(SMOKE_CONFIG, {"data.eval": json.dumps([str(test_file)])})
    replay, dev = original_data(config, seed=0)
    assert replay and dev and not {e.text for e in replay} & set(tested)
    test_file.unlink()
    replay_without, same_dev = original_data(config, seed=0)
    assert replay_without == [] and same_dev == dev
