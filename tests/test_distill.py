"""Distillation, topic-swap negatives, tokenisation cache, bf16 choice and the MPNet head, on tiny models."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from stance.config import ConfigError, load_config
from stance.data.examples import Example
from stance.model.classifier import StanceClassifier
from stance.model.modeling import attach_embedding_head, detach_embedding_head, embedding_loss, stance_loss
from stance.pairs import StancePair
from tests.conftest import build_tiny_base, tiny_config
from training.arguments import use_bf16
from training.distill import news_quote_examples
from training.runs import cached_teacher_rows
from training.splits import add_swap_negatives, prepare_data
from training.train import train

ROOT = Path(__file__).resolve().parents[1]


def _config(tiny_base, **overrides):
    return tiny_config(tiny_base, {"train.precision": "fp32", **overrides})


def test_soft_labels_that_are_one_hot_give_plain_cross_entropy():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]])
    ids = torch.tensor([0, 2])
    one_hot = torch.nn.functional.one_hot(ids, 3).float()
    assert torch.allclose(stance_loss(logits, one_hot), torch.nn.functional.cross_entropy(logits, ids))


def test_student_moves_towards_the_teacher(tiny_base, tiny_model, data_dir, tmp_path):
    cfg = _config(
        tiny_base,
        **{
            "train.lr": 3e-3,
            "train.max_steps": 40,
            "train.warmup_ratio": 0.0,
            "distill.teacher": tiny_model,
            "model.dropout": 0.0,
        },
    )
    examples, _, _ = prepare_data(cfg)
    texts, topics = [e.text for e in examples], [e.topic for e in examples]
    teacher = StanceClassifier.from_pretrained(tiny_model).predict_proba(texts, topics)
    before = StanceClassifier.from_base(tiny_base, max_length=32).predict_proba(texts, topics)
    out = train(cfg, tmp_path / "student")
    after = StanceClassifier.from_pretrained(out).predict_proba(texts, topics)

    def kl(p):
        return (teacher * (teacher.log() - p.log())).sum(-1).mean().item()

    assert kl(after) < 0.5 * kl(before)
    stats = json.loads((out / "train_results.json").read_text())["distill"]
    assert stats["teacher"] == str(tiny_model) and stats["train_examples"] == len(examples)


def test_embedding_loss_is_zero_aligned_and_two_opposite():
    v = torch.tensor([[1.0, 2.0, -0.5], [0.3, 0.0, 4.0]])
    assert embedding_loss(3 * v, v).item() == pytest.approx(0.0, abs=1e-6)
    assert embedding_loss(-v, v).item() == pytest.approx(2.0)


def test_teacher_reads_probabilities_and_vectors_in_one_pass(tiny_model):
    teacher = StanceClassifier.from_pretrained(tiny_model)
    pairs = [StancePair("we back the deal", "the deal"), StancePair("no to the accord, ever", "the accord")]
    probs, pooled = teacher.predict_with_embeddings(pairs, batch_size=1)
    assert torch.allclose(probs, teacher.predict_proba(pairs), atol=1e-6)
    assert pooled.shape == (2, teacher.model.config.hidden_size) and pooled.abs().sum() > 0


def test_embedding_head_trains_with_the_student_and_is_dropped(tiny_base):
    clf = StanceClassifier.from_base(tiny_base, max_length=32)
    batch = clf.tokenizer(["we back the deal", "no"], padding=True, return_tensors="pt")
    target = torch.randn(2, 48)
    with pytest.raises(ValueError, match="no embedding head"):
        clf.model(**batch, teacher_embeddings=target)
    attach_embedding_head(clf.model, 48, weight=0.5)
    plain = clf.model(**batch, labels=torch.tensor([0, 1])).loss
    both = clf.model(**batch, labels=torch.tensor([0, 1]), teacher_embeddings=target).loss
    assert both > plain  # a random map is far from the target: the cosine term adds to the loss
    both.backward()
    assert clf.model.embedding_head.weight.grad.abs().sum() > 0
    detach_embedding_head(clf.model)
    assert not any(k.startswith("embedding_head") for k in clf.model.state_dict())


def test_student_with_embedding_distillation_saves_a_plain_model(
    tiny_base, tiny_model, data_dir, tmp_path, monkeypatch
):
    import stance.model.modeling as modeling

    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    monkeypatch.setattr(
        modeling, "embedding_loss", lambda a, b: calls.append(b.shape) or embedding_loss(a, b)
    )
    cfg = _config(
        tiny_base, **{"train.max_steps": 3, "distill.teacher": tiny_model, "distill.embedding_weight": 1.0}
    )
    out = train(cfg, tmp_path / "student")
    assert len(calls) == 3  # every training step saw the teacher's vectors
    # loads through the strict path: no stray tensors from the training-only head
    StanceClassifier.from_pretrained(out).predict_proba(["we back the deal"], "the deal")
    stats = json.loads((out / "train_results.json").read_text())["distill"]
    assert stats["embedding_weight"] == 1.0
    (store,) = (tmp_path / "cache" / "teacher").glob("*.rows.pt")
    rows = torch.load(store)["rows"]
    assert rows.shape[1] == 3 + StanceClassifier.from_pretrained(tiny_model).model.config.hidden_size


def test_resume_refuses_a_checkpoint_with_the_other_embedding_setting(tmp_path):
    from safetensors.torch import save_file

    from stance.config import ConfigError
    from training.train import _refuse_other_embedding_setting

    checkpoint = tmp_path / "checkpoint-10"
    checkpoint.mkdir()
    save_file(
        {"classifier.weight": torch.zeros(3, 4), "embedding_head.weight": torch.zeros(8, 4)},
        str(checkpoint / "model.safetensors"),
    )
    _refuse_other_embedding_setting(checkpoint, 8, {})
    with pytest.raises(ConfigError, match="with embedding distillation"):
        _refuse_other_embedding_setting(checkpoint, None, {})
    with pytest.raises(ConfigError, match="8-wide vectors and this teacher's are 16 wide"):
        _refuse_other_embedding_setting(checkpoint, 16, {})
    with pytest.raises(ConfigError, match="the teacher is gone"):
        _refuse_other_embedding_setting(checkpoint, None, {"fallback": "gold labels (no teacher on disk)"})
    plain = tmp_path / "checkpoint-20"
    plain.mkdir()
    save_file({"classifier.weight": torch.zeros(3, 4)}, str(plain / "model.safetensors"))
    _refuse_other_embedding_setting(plain, None, {})
    with pytest.raises(ConfigError, match="without embedding distillation"):
        _refuse_other_embedding_setting(plain, 8, {})


def test_teacher_reads_each_row_once_across_students(tmp_path, monkeypatch):
    # a second seed shares most rows with the first: only the new ones are read
    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path))
    asked = []

    def reader(keys):
        def read(indices):
            asked.append([keys[i] for i in indices])
            return torch.tensor([[float(ord(keys[i])), 0.0, 1.0] for i in indices])

        return read

    first = ["a", "b", "c", "a"]
    rows = cached_teacher_rows("teacher", "t1", first, reader(first))
    assert asked == [["a", "b", "c"]] and rows[:, 0].tolist() == [97.0, 98.0, 99.0, 97.0]
    second = ["c", "d", "a"]
    rows = cached_teacher_rows("teacher", "t1", second, reader(second))
    assert asked[1] == ["d"] and rows[:, 0].tolist() == [99.0, 100.0, 97.0]
    cached_teacher_rows("teacher", "t1", second, reader(second))
    assert len(asked) == 2  # nothing new: nothing read
    cached_teacher_rows("teacher", "t2", ["a"], reader(["a"]))
    assert asked[2] == ["a"]  # another teacher reads for itself


def test_an_interrupted_teacher_reading_keeps_the_pieces_it_finished(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr("training.runs.TEACHER_ROWS_PER_WRITE", 2)
    keys = ["a", "b", "c", "d", "e"]
    asked = []

    def read(indices):
        if asked:  # the second piece fails, as an interrupted run would
            raise KeyboardInterrupt
        asked.append([keys[i] for i in indices])
        return torch.ones(len(indices), 3)

    with pytest.raises(KeyboardInterrupt):
        cached_teacher_rows("teacher", "t1", keys, read)
    asked.clear()

    def read_rest(indices):
        asked.append([keys[i] for i in indices])
        return torch.zeros(len(indices), 3)

    rows = cached_teacher_rows("teacher", "t1", keys, read_rest)
    assert asked == [["c", "d"], ["e"]]  # a and b came from the first run's piece
    assert rows[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_the_teacher_reads_what_the_student_reads(tiny_base, tiny_model, data_dir, tmp_path, monkeypatch):
    # tiny_model's folder reads 32 tokens; a student at 16 gets a reading at 16 of its own
    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path / "cache"))
    lengths = []
    read = StanceClassifier.predict_with_embeddings

    def spy(self, *args, **kwargs):
        lengths.append(self.max_length)
        return read(self, *args, **kwargs)

    monkeypatch.setattr(StanceClassifier, "predict_with_embeddings", spy)
    for run, length in enumerate((32, 16, 32)):
        settings = {"train.max_steps": 1, "distill.teacher": tiny_model, "model.max_length": length}
        cfg = _config(tiny_base, **settings)
        out = train(cfg, tmp_path / f"student{run}")
        assert json.loads((out / "train_results.json").read_text())["distill"]["teacher_max_length"] == length
    assert sorted(set(lengths)) == [16, 32] and lengths[-1] == 16  # the third run read from the cache


def test_missing_teacher_falls_back_to_gold_labels(tiny_base, data_dir, tmp_path):
    cfg = _config(tiny_base, **{"train.max_steps": 2, "distill.teacher": tmp_path / "no-teacher"})
    out = train(cfg, tmp_path / "student")
    stats = json.loads((out / "train_results.json").read_text())["distill"]
    assert stats["teacher"] is None and "gold" in stats["fallback"]


def test_news_quotes_pair_each_quote_with_its_headline_and_another(tmp_path):
    root = tmp_path / "polnear"
    (root / "train" / "text").mkdir(parents=True)
    rows = ["compartment\tfilename\ttitle"]
    for i, (name, speaker) in enumerate([("a1", "Anna Berg"), ("b2", "Piotr Nowak"), ("c3", "Ola Lind")]):
        rows.append(f"train\t{name}\tHeadline number {i}")
        (root / "train" / "text" / f"{name}.txt").write_text(
            f"{speaker} spoke on Monday.\n\n“We will keep the port open all winter,” {speaker} said.\n"
        )
    rows.append("dev\tzz\tNot used")
    (root / "metadata.tsv").write_text("\n".join(rows) + "\n")
    pairs = news_quote_examples(100, random.Random(0), root)
    quotes = {p.text for p in pairs}
    assert quotes == {"We will keep the port open all winter,"}
    own = [p for p in pairs if p.topic.startswith("Headline")]
    assert {p.topic for p in own} <= {"Headline number 0", "Headline number 1", "Headline number 2"}
    assert all("Not used" != p.topic for p in pairs)
    assert all(p.context and "said" in p.context for p in pairs)
    assert 3 <= len(pairs) <= 6
    # distill.news_quotes: -1 takes every pair; a positive number caps them
    assert news_quote_examples(-1, random.Random(0), root) == pairs
    assert len(news_quote_examples(2, random.Random(0), root)) == 2


def test_swap_negatives_borrow_another_topic_and_say_none():
    rows = [Example(f"text {i}", f"topic {i % 5}", "favor") for i in range(40)]
    out = add_swap_negatives(rows, 0.25, random.Random(1))
    extra = out[40:]
    assert len(extra) == 10
    originals = {e.text: e.topic for e in rows}
    assert all(e.label == "none" and e.topic != originals[e.text] for e in extra)
    assert add_swap_negatives(rows, 0.0, random.Random(1)) == rows


def test_bf16_choice_follows_the_setting(monkeypatch):
    assert use_bf16("bf16") and not use_bf16("fp32")
    monkeypatch.setattr("training.arguments.cpu_has_fast_bf16", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert not use_bf16("auto")
    monkeypatch.setattr("training.arguments.cpu_has_fast_bf16", lambda: True)
    assert use_bf16("auto")


def test_tokenised_examples_are_cached_between_runs(tiny_base, data_dir, tmp_path, monkeypatch, caplog):
    import logging

    cache = tmp_path / "cache"
    monkeypatch.setenv("STANCE_CACHE_DIR", str(cache))
    cfg = _config(tiny_base, **{"train.max_steps": 1})
    train(cfg, tmp_path / "m1")
    assert any((cache / "tokenized").iterdir())
    with caplog.at_level(logging.INFO, logger="training.train"):
        train(cfg, tmp_path / "m2")
    assert "from cache" in caplog.text


@pytest.mark.parametrize(
    "override, message",
    [
        ({"train.precision": "fp16"}, "allowed: auto, bf16, fp32"),
        ({"distill.hard_weight": "2"}, "out of range"),
        ({"distill.embedding_weight": "-1"}, "out of range"),
        ({"distill.embedding_weight": "1"}, "needs distill.teacher"),
        ({"model.read_length": "4"}, "too short"),
        ({"model.read_length": "600"}, "out of range"),
        ({"distill.teacher": "models/large", "train.label_smoothing": "0.1"}, "cannot be used with"),
    ],
)
def test_new_settings_are_validated(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "configs" / "large.yaml", override)


def test_large_and_default_configs_name_their_encoders():
    assert load_config(ROOT / "configs" / "large.yaml").model.base == "mpnet"
    default = load_config(ROOT / "configs" / "default.yaml")
    assert default.model.base == "minilm" and default.distill.teacher == "models/large"


def test_mpnet_mean_pool_head_saves_and_loads(tmp_path):
    base = build_tiny_base(tmp_path / "tiny-mpnet", "mpnet")
    clf = StanceClassifier.from_base(base, max_length=32)
    texts = ["we support the deal", "we oppose the accord today"]
    before = clf.predict_proba(texts, "the deal")
    clf.save_pretrained(tmp_path / "model")
    loaded = StanceClassifier.from_pretrained(tmp_path / "model")
    assert type(loaded.model).__name__ == "MPNetMeanPoolForSequenceClassification"
    assert torch.allclose(before, loaded.predict_proba(texts, "the deal"), atol=1e-5)


def _soft_file(tmp_path):
    path = tmp_path / "soft.jsonl"
    rows = [
        {
            "text": f"row {i}",
            "topic": "the deal",
            "label": "favor",
            "p_favor": 0.6,
            "p_against": 0.0,
            "p_none": 0.4,
        }
        for i in range(12)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("teacher", [False, True])
def test_soft_labels_are_what_training_learns(
    tiny_base, tiny_model, data_dir, tmp_path, monkeypatch, teacher
):
    # gold-label training learns the distribution; distillation mixes it with the teacher at hard_weight
    import training.train as train_module

    seen = {}
    to_dataset = train_module._to_dataset

    def spy(clf, examples, soft_labels=None, teacher_embeddings=None):
        if "train" not in seen:
            seen["train"] = (list(examples), soft_labels)
        return to_dataset(clf, examples, soft_labels, teacher_embeddings)

    monkeypatch.setattr(train_module, "_to_dataset", spy)
    source = {"name": str(_soft_file(tmp_path)), "soft_labels": True}
    settings = {"train.max_steps": 1, "data.dev_fraction": 0.0, "data.train": [{"name": "vast"}, source]}
    if teacher:
        settings.update({"distill.teacher": str(tiny_model), "distill.hard_weight": 1.0})
    train(_config(tiny_base, **settings), tmp_path / "model")
    examples, targets = seen["train"]
    by_text = {e.text: t for e, t in zip(examples, targets, strict=True)}
    assert by_text["row 3"] == pytest.approx([0.6, 0.0, 0.4])
    plain = next(e for e in examples if e.probs is None)
    assert by_text[plain.text] == pytest.approx(plain.target())


def test_soft_labels_refuse_label_smoothing():
    train_sources = "[{name: vast}, {name: gwsd_desmog, soft_labels: true}]"
    with pytest.raises(
        ConfigError, match=r"data.train\[1\].soft_labels cannot be used with train.label_smoothing"
    ):
        load_config(
            ROOT / "configs" / "large.yaml", {"data.train": train_sources, "train.label_smoothing": "0.1"}
        )
    with pytest.raises(ConfigError, match=r"data.train\[0\].soft_labels: expected bool"):
        load_config(ROOT / "configs" / "large.yaml", {"data.train": "[{name: vast, soft_labels: maybe}]"})


def test_soft_labels_without_the_teacher_on_disk_are_still_learned(
    tiny_base, data_dir, tmp_path, monkeypatch
):
    import training.train as train_module

    seen = []
    to_dataset = train_module._to_dataset
    monkeypatch.setattr(
        train_module,
        "_to_dataset",
        lambda clf, ex, soft=None, emb=None: seen.append(soft) or to_dataset(clf, ex, soft, emb),
    )
    source = {"name": str(_soft_file(tmp_path)), "soft_labels": True}
    settings = {"train.max_steps": 1, "distill.teacher": str(tmp_path / "gone"), "data.train": [source]}
    out = train(_config(tiny_base, **settings), tmp_path / "model")
    assert seen[0] and all(t == pytest.approx([0.6, 0.0, 0.4]) for t in seen[0])
    assert "label distributions" in (out / "README.md").read_text()


def test_soft_labels_need_a_set_that_gives_a_distribution(data_dir):
    from stance.config import DataSource
    from stance.data.examples import DataError, label_prob_columns

    with pytest.raises(DataError, match=r"soft_labels on vast: the set gives one label per row.*gwsd_desmog"):
        label_prob_columns(DataSource("vast", soft_labels=True))
    mapped = DataSource("vast", columns={"p_favor": "a", "p_against": "b", "p_none": "c"}, soft_labels=True)
    assert label_prob_columns(mapped) == ("a", "b", "c")


def test_unlabelled_rows_learn_the_teacher_alone_and_never_repeat_a_held_out_text(
    tiny_base, tiny_model, data_dir, tmp_path, monkeypatch
):
    import training.train as train_module

    seen = {}
    to_dataset = train_module._to_dataset

    def spy(clf, examples, soft_labels=None, teacher_embeddings=None):
        seen.setdefault("train", (list(examples), soft_labels))
        return to_dataset(clf, examples, soft_labels, teacher_embeddings)

    monkeypatch.setattr(train_module, "_to_dataset", spy)
    posts, labelled = tmp_path / "posts.jsonl", tmp_path / "labelled.jsonl"
    # one topic: split by text alone, so it gives dev rows (vast's tiny rows give none)
    rows = [{"text": f"a labelled row {i}", "topic": "the deal", "label": "favor"} for i in range(10)]
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    settings = {
        "train.max_steps": 1,
        "data.train": [{"name": "vast"}, {"name": str(labelled)}],
        "data.dev_fraction": 0.2,
        "data.eval": ["vast:test"],
        "distill.teacher": str(tiny_model),
        "distill.hard_weight": 1.0,  # the labelled rows learn their gold labels alone
        "distill.unlabelled": [{"name": str(posts), "max_examples": 4}],
    }
    _, dev, _ = prepare_data(_config(tiny_base, **settings))
    rows = [{"text": f"a new post {i}", "topic": "the deal"} for i in range(5)]  # no labels to read
    # vast test's own text and a dev text, with other case and spacing: held out (ARC's posts hold
    # most of VAST test's comments)
    held = ["We  SUPPORT the deal", dev[0].text.upper()]
    rows += [{"text": text, "topic": "another claim"} for text in held]
    posts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = train(_config(tiny_base, **settings), tmp_path / "student")
    examples, targets = seen["train"]
    by_text = {e.text: t for e, t in zip(examples, targets, strict=True)}
    new = [text for text in by_text if text.startswith("a new post")]
    assert len(new) == 4 and not set(held) & set(by_text)
    teacher = StanceClassifier.from_pretrained(tiny_model).predict_proba(new, ["the deal"] * 4)
    assert torch.allclose(torch.tensor([by_text[text] for text in new]), teacher, atol=1e-4)
    labelled = next(e for e in examples if not e.text.startswith("a new post"))
    assert by_text[labelled.text] == pytest.approx(labelled.target())
    stats = json.loads((out / "train_results.json").read_text())["distill"]
    assert stats["unlabelled"] == {str(posts): {"rows": 4, "held_out": 2}}
    assert f"labelled by the teacher alone: {posts} (4 rows)" in (out / "README.md").read_text()


def test_unlabelled_rows_skip_the_student_dev_texts(data_dir):
    from training.distill import unlabelled_examples
    from training.splits import held_out_texts, text_key

    config = load_config(
        ROOT / "configs" / "smoke.yaml",
        {"data.eval": "[]", "distill.teacher": "models/large", "distill.unlabelled": "vast"},
    )
    dev = [Example("We support the deal 3", "the deal 3", "favor")]
    rows, stats = unlabelled_examples(config, held_out_texts(config) | {text_key(e.text) for e in dev})
    assert "we support the deal 3" not in {e.text.lower() for e in rows}
    assert stats == {"vast:train": {"rows": 47, "held_out": 1}}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"distill.unlabelled": "arc"}, r"distill.unlabelled needs distill.teacher"),
        (
            {"distill.teacher": "models/large", "distill.unlabelled": "[{name: arc, soft_labels: true}]"},
            r"distill.unlabelled\[0\].soft_labels: the rows' own labels are not read",
        ),
        (
            {"distill.teacher": "models/large", "distill.unlabelled": "[{name: arc, weight: 0}]"},
            r"distill.unlabelled\[0\].weight=0",
        ),
    ],
)
def test_unlabelled_sources_are_validated(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "configs" / "large.yaml", override)  # large.yaml names no teacher


def test_one_unlabelled_set_on_the_command_line_is_a_list_of_one():
    config = load_config(ROOT / "configs" / "default.yaml", {"distill.unlabelled": "arc"})
    assert [(s.name, s.split) for s in config.distill.unlabelled] == [("arc", "train")]
