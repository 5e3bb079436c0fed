"""Training and evaluation on the tiny model: overfitting, outputs, atomicity, torchrun."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stance.data.examples import load_examples
from stance.errors import ConfigError
from stance.model.classifier import StanceClassifier
from tests import conftest
from tests.conftest import tiny_cli_args
from training.evaluate import evaluate, topic_swap_sensitivity, write_eval_outputs
from training.train import train

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(tiny_base, **train):
    return conftest.tiny_config(tiny_base, {"data.eval": "[vast:test]"}, **train)


def test_overfits_a_handful_of_examples(tiny_base, data_dir, tmp_path):
    cfg = tiny_config(tiny_base, lr=5e-3, epochs=150, max_steps=-1, warmup_ratio=0.0)
    cfg.data.train[0].max_examples = 8
    cfg.model.dropout = 0.0
    out = train(cfg, tmp_path / "model")
    clf = StanceClassifier.from_pretrained(out)
    from training.splits import prepare_data

    examples, _, _ = prepare_data(cfg)
    preds = clf.predict([e.text for e in examples], [e.topic for e in examples])
    accuracy = sum(p.label == e.label for p, e in zip(preds, examples, strict=False)) / len(examples)
    assert accuracy == 1.0


def test_output_folder_has_everything(tiny_base, data_dir, tmp_path):
    out = train(tiny_config(tiny_base, max_steps=3), tmp_path / "model")
    names = {p.name for p in out.iterdir()}
    for required in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "resolved_config.yaml",
        "train_results.json",
        "eval_results.json",
        "README.md",
        "confusion_matrix.png",
        "checksums.json",
    ):
        assert required in names, required
    config = json.loads((out / "config.json").read_text())
    assert set(config["id2label"].values()) == {"favor", "against", "none"}
    assert "vast:test" in (out / "README.md").read_text()
    assert "# quote-stance model `model`" in (out / "README.md").read_text()
    assert not (tmp_path / "model.work").exists()


def test_a_read_length_is_what_the_saved_model_reads(tiny_base, data_dir, tmp_path):
    cfg = conftest.tiny_config(tiny_base, {"model.read_length": "64"}, max_steps=2)
    out = train(cfg, tmp_path / "model")
    assert StanceClassifier.from_pretrained(out).max_length == 64  # training read 32
    assert "trained on up to 32 tokens, reads up to 64" in (out / "README.md").read_text()


def test_model_attention_dropout_reaches_the_encoder(tiny_base, data_dir, tmp_path):
    out = train(
        conftest.tiny_config(tiny_base, {"model.attention_dropout": "0"}, max_steps=1), tmp_path / "model"
    )
    # the tiny base's own is 0.1, and -1 (the default) keeps it
    assert json.loads((out / "config.json").read_text())["attention_probs_dropout_prob"] == 0
    kept = train(conftest.tiny_config(tiny_base, max_steps=1), tmp_path / "kept", evaluate_after=False)
    assert json.loads((kept / "config.json").read_text())["attention_probs_dropout_prob"] == 0.1
    with pytest.raises(ConfigError, match="model.attention_dropout"):
        conftest.tiny_config(tiny_base, {"model.attention_dropout": "1.5"})


def test_a_student_keeps_half_of_a_trained_stance_model(tiny_base, data_dir, tmp_path):
    # model.layers with a stance folder as base: its embeddings, the kept layers and its head
    import torch

    teacher = train(tiny_config(tiny_base, max_steps=2), tmp_path / "teacher")
    cfg = conftest.tiny_config(teacher, {"model.layers": "1"}, max_steps=0)
    student = train(cfg, tmp_path / "student", evaluate_after=False)
    loaded = StanceClassifier.from_pretrained(student)
    assert loaded.model.config.num_hidden_layers == 1 and len(loaded.model.bert.encoder.layer) == 1
    full = StanceClassifier.from_pretrained(teacher).model.state_dict()
    half = loaded.model.state_dict()
    # no training steps: the head and the first layer are the teacher's own
    assert torch.equal(half["classifier.weight"], full["classifier.weight"])
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(half[key], full[key])
    # the folder says which of the base's layers it kept
    assert json.loads((student / "train_results.json").read_text())["kept_layers"] == [0]
    assert "encoder layers [0] of it kept" in (student / "README.md").read_text()
    # refused before any data is read: a missing data.extra file would raise a DataError
    missing = json.dumps([str(tmp_path / "missing.jsonl")])
    too_many = conftest.tiny_config(teacher, {"model.layers": "3", "data.extra": missing}, max_steps=1)
    with pytest.raises(ConfigError, match="model.layers=3; the base encoder has 2 layers"):
        train(too_many, tmp_path / "too_many")


def test_time_limit_stops_training_and_keeps_the_model(tiny_base, data_dir, tmp_path):
    # a budget of a few milliseconds: the first step ends it, however many epochs were asked for
    out = train(tiny_config(tiny_base, epochs=50, max_steps=-1, max_minutes=1e-4), tmp_path / "model")
    results = json.loads((out / "train_results.json").read_text())
    assert 1 <= results["global_step"] <= 2
    assert (out / "model.safetensors").exists() and (out / "eval_results.json").exists()


def _ten_minute_budget(monkeypatch, start: float):
    """A 10-minute ``time_limit`` (lr 1e-3, warm-up 0.1) on a hand-set clock, and an optimizer."""
    import torch

    from training import arguments

    clock = [start]
    monkeypatch.setattr(arguments.time, "time", lambda: clock[0])
    callback = arguments.time_limit(10, lr=1e-3, warmup=0.1)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return clock, callback, optimizer


def test_time_limit_follows_the_clock(monkeypatch):
    import torch

    clock, callback, optimizer = _ten_minute_budget(monkeypatch, 1000.0)

    class Control:
        should_training_stop = should_save = should_evaluate = False

    class Args:
        eval_strategy = "steps"

    class State:
        global_step = 0

    # the Trainer's constant schedule runs beside it: it must keep (and report) the clock's rate
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    callback.on_train_begin(Args, State, Control)
    seen = []
    for minute in (0.5, 1.0, 5.5, 9.99):
        clock[0] = 1000.0 + 60 * minute
        callback.on_step_begin(Args, State, Control, optimizer=optimizer, lr_scheduler=schedule)
        optimizer.step()
        schedule.step()
        seen.append(schedule.get_last_lr()[0])
        assert optimizer.param_groups[0]["lr"] == seen[-1]
        callback.on_step_end(Args, State, Control)
        assert not Control.should_training_stop
    assert seen == pytest.approx([5e-4, 1e-3, 5e-4, 1e-5], rel=0.01)
    clock[0] = 1000.0 + 60 * 10.01
    callback.on_step_end(Args, State, Control)
    assert Control.should_training_stop and Control.should_save and Control.should_evaluate


def test_time_limit_follows_the_steps_when_they_end_first(monkeypatch):
    # a fast machine: 100 steps in 2 of the 10 minutes; the rate decays by the steps, to 0 at the last
    clock, callback, optimizer = _ten_minute_budget(monkeypatch, 0.0)

    class State:
        global_step = 0
        max_steps = 100

    callback.on_train_begin(None, State, None)
    seen = []
    for step, minute in ((5, 0.1), (50, 1.0), (99, 1.98)):
        State.global_step, clock[0] = step, 60 * minute
        callback.on_step_begin(None, State, None, optimizer=optimizer)
        seen.append(optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx([5e-4, 1e-3 * 0.5 / 0.9, 1e-3 * 0.01 / 0.9], rel=0.01)


def test_same_seed_same_model(tiny_base, data_dir, tmp_path):
    a = train(tiny_config(tiny_base, max_steps=3), tmp_path / "a", evaluate_after=False)
    b = train(tiny_config(tiny_base, max_steps=3), tmp_path / "b", evaluate_after=False)
    assert (a / "checksums.json").read_text() == (b / "checksums.json").read_text()


def test_failed_run_leaves_the_last_good_model(tiny_base, data_dir, tmp_path, monkeypatch):
    out = train(tiny_config(tiny_base, max_steps=2), tmp_path / "model", evaluate_after=False)
    before = (out / "checksums.json").read_text()

    import transformers

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(transformers.Trainer, "train", crash)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tiny_base, max_steps=2), tmp_path / "model")
    assert (out / "checksums.json").read_text() == before


def test_evaluate_writes_json_and_png(tiny_model, data_dir, tmp_path):
    clf = StanceClassifier.from_pretrained(tiny_model)
    results = evaluate(clf, ["vast:test"])
    m = results["vast:test"]
    assert m["n"] == 8 and 0 <= m["macro_f1"] <= 1 and "per_topic" in m
    write_eval_outputs(results, tmp_path / "eval")
    assert json.loads((tmp_path / "eval" / "eval_results.json").read_text())["vast:test"]["n"] == 8
    assert (tmp_path / "eval" / "confusion_matrix.png").stat().st_size > 0
    swap = topic_swap_sensitivity(clf, load_examples("vast:test"))
    assert 0 <= swap["share_moved_to_none"] <= 1


def test_topic_swap_changes_only_the_topic():
    """Swapped rows keep their context, as the rows with their own topics were read with it."""
    from stance.data.examples import Example
    from stance.pairs import StancePrediction

    class ReadsTopicInContext:  # favor when the context names the topic: only context shows it
        def predict(self, pairs, batch_size=64):
            labels = ["favor" if p.context and p.topic in p.context else "none" for p in pairs]
            return [StancePrediction(label, 1.0, {}) for label in labels]

    topics = ["the deal", "taxes", "the port", "climate"]
    rows = [Example(f"we back it {i}", t, "favor", f"this is about {t}") for i, t in enumerate(topics)]
    swap = topic_swap_sensitivity(ReadsTopicInContext(), rows)  # type: ignore[arg-type]
    assert swap == {"n": 4, "polar_before": 4, "moved_to_none": 4, "share_moved_to_none": 1.0}


@pytest.mark.skipif(
    shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
    reason="torchrun not installed",
)
def test_torchrun_two_processes_only_rank0_writes(tiny_base, data_dir, tmp_path):
    torchrun = str(Path(sys.executable).parent / "torchrun")
    out = tmp_path / "ddp-model"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [
        torchrun,
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "training",
        "train",
        *tiny_cli_args(tiny_base, {"train.max_steps": 2}),
        "--output",
        str(out),
        "--no-eval",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "train_results.json").read_text())
    assert results["world_size"] == 2
    StanceClassifier.from_pretrained(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "ddp-model"]


def test_resume_continues_from_the_last_checkpoint(tiny_base, data_dir, tmp_path, monkeypatch):
    import training.train as train_module

    cfg = tiny_config(tiny_base, max_steps=4, eval_steps=2)
    real_atomic_dir = train_module.atomic_dir

    def crash_before_saving(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "atomic_dir", crash_before_saving)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "model")
    checkpoints = sorted((tmp_path / "model.work" / "checkpoints").glob("checkpoint-*"))
    assert [c.name for c in checkpoints] == ["checkpoint-2", "checkpoint-4"]
    assert not (tmp_path / "model").exists()

    monkeypatch.setattr(train_module, "atomic_dir", real_atomic_dir)
    cfg = tiny_config(tiny_base, max_steps=6, eval_steps=2)
    out = train(cfg, tmp_path / "model", resume=True, evaluate_after=False)
    results = json.loads((out / "train_results.json").read_text())
    # resumed at step 4 of 6: only two optimisation steps ran in the second run
    assert results["global_step"] == 6 and results["steps_this_run"] == 2


def test_resume_skips_a_half_written_checkpoint(tiny_base, data_dir, tmp_path, monkeypatch, caplog):
    import training.train as train_module

    def crash_before_saving(path):
        raise KeyboardInterrupt

    real_atomic_dir = train_module.atomic_dir
    monkeypatch.setattr(train_module, "atomic_dir", crash_before_saving)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tiny_base, max_steps=4, eval_steps=2), tmp_path / "model")
    # a kill while checkpoint-4 was being written: its trainer state is cut short
    state = tmp_path / "model.work" / "checkpoints" / "checkpoint-4" / "trainer_state.json"
    state.write_text(state.read_text()[:40])
    monkeypatch.setattr(train_module, "atomic_dir", real_atomic_dir)
    with caplog.at_level("WARNING", logger="training.checkpoints"):
        out = train(
            tiny_config(tiny_base, max_steps=6, eval_steps=2),
            tmp_path / "model",
            resume=True,
            evaluate_after=False,
        )
    assert "skipping half-written checkpoint" in caplog.text and "checkpoint-4" in caplog.text
    results = json.loads((out / "train_results.json").read_text())
    assert results["resumed"] is True and results["global_step"] == 6 and results["steps_this_run"] == 4


def test_a_misspelt_test_set_is_refused_before_training(tiny_base, data_dir, tmp_path, monkeypatch):
    import transformers

    from stance.data.examples import DataError

    def never(self, *args, **kwargs):
        raise AssertionError("trained before the test sets were read")

    monkeypatch.setattr(transformers.Trainer, "train", never)
    config = conftest.tiny_config(tiny_base, {"data.eval": "[vast:test, vast:no_such_split]"}, max_steps=2)
    with pytest.raises(DataError, match="no split 'no_such_split'"):
        train(config, tmp_path / "model")
    assert not (tmp_path / "model").exists()
