"""Self-training: `stance pseudo-label` on a tiny model and a tiny PolNeAR, and `data.extra`,
the way training reads the rows it writes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from stance.config import ConfigError, load_config
from stance.data.examples import iter_file
from stance.errors import DataError, DataNotFoundError, InputError, ModelLoadError
from stance.model.classifier import StanceClassifier
from stance_cli import app
from tests.conftest import tiny_config
from training.distill import news_quote_examples
from training.pseudo import DEFAULT_MIN_CONFIDENCE, pseudo_label
from training.splits import prepare_sources

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

ARTICLES = {
    "a1": ("Anna Berg", "Ports stay open in winter", "We will keep the port open all winter"),
    "b2": ("Piotr Nowak", "Tax cut vote delayed", "The tax cut is bad for the towns"),
    "c3": ("Ola Lind", "Climate talks resume", "We support the climate deal without doubt"),
    "d4": ("Mira Holt", "Peace accord signed", "This accord is great for peace in the region"),
}


def write_polnear(root: Path) -> Path:
    """A PolNeAR folder with what self-training reads: train texts and metadata.tsv's headlines."""
    (root / "train" / "text").mkdir(parents=True)
    rows = ["compartment\tfilename\ttitle"]
    for name, (speaker, headline, quote) in ARTICLES.items():
        rows.append(f"train\t{name}\t{headline}")
        (root / "train" / "text" / f"{name}.txt").write_text(
            f"{speaker} spoke on Monday.\n\n“{quote},” {speaker} said.\n\n"
            f"“Nobody will change that for a long while,” {speaker} added.\n",
            encoding="utf-8",
        )
    rows.append("dev\tzz\tNot for self-training")
    (root / "metadata.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.fixture()
def polnear(tmp_path) -> Path:
    return write_polnear(tmp_path / "polnear")


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_rows_are_the_models_top_labels_on_every_news_quote_pair(tiny_model, polnear, tmp_path):
    out = tmp_path / "pseudo.jsonl"
    # a top probability of three labels is at least 1/3, so 0.01 keeps every pair
    report = pseudo_label(tiny_model, out, min_confidence=0.01, polnear=polnear)
    pairs = news_quote_examples(-1, random.Random(42), polnear)
    probs = StanceClassifier.from_pretrained(tiny_model).predict_proba(
        [p.text for p in pairs], [p.topic for p in pairs], contexts=[p.context for p in pairs]
    )
    rows = read_rows(out)
    assert report.pairs == report.kept == len(rows) == len(pairs) >= 8
    assert [(r["text"], r["topic"], r["context"]) for r in rows] == [
        (p.text, p.topic, p.context) for p in pairs
    ]
    labels = StanceClassifier.from_pretrained(tiny_model).labels
    assert [r["label"] for r in rows] == [labels[i] for i in probs.argmax(-1).tolist()]
    assert torch.allclose(torch.tensor([r["confidence"] for r in rows]), probs.max(-1).values, atol=1e-6)
    assert {r["source"] for r in rows} == {"pseudo"}
    assert "Not for self-training" not in {r["topic"] for r in rows}
    # training reads the file as labelled rows, or as distributions (soft_labels)
    assert [e.label for e in iter_file(out)] == [r["label"] for r in rows]
    soft = [e.probs for e in iter_file(out, probs=("p_favor", "p_against", "p_none"))]
    in_labels_order = probs[:, [labels.index(label) for label in ("favor", "against", "none")]]
    assert torch.allclose(torch.tensor(soft, dtype=torch.float32), in_labels_order, atol=1e-5)


def test_only_pairs_at_or_above_the_threshold_are_kept(tiny_model, polnear, tmp_path):
    pseudo_label(tiny_model, tmp_path / "all.jsonl", min_confidence=0.01, polnear=polnear)
    everything = read_rows(tmp_path / "all.jsonl")
    # one row's own confidence: that row is kept ("at least"), as are those above it
    threshold = sorted(r["confidence"] for r in everything)[len(everything) // 2]
    report = pseudo_label(tiny_model, tmp_path / "kept.jsonl", min_confidence=threshold, polnear=polnear)
    kept = read_rows(tmp_path / "kept.jsonl")
    expected = [r for r in everything if r["confidence"] >= threshold]
    assert kept == expected and 0 < len(kept) < len(everything)
    assert report.kept == len(kept) and report.pairs == len(everything)
    assert report.kept_by_label == {
        label: sum(r["label"] == label for r in kept) for label in ("favor", "against", "none")
    }
    assert sum(report.predicted_by_label.values()) == len(everything)
    assert report.kept_share == pytest.approx(len(kept) / len(everything))


def test_limit_and_seed_choose_the_pairs(tiny_model, polnear, tmp_path):
    report = pseudo_label(tiny_model, tmp_path / "a.jsonl", min_confidence=0.01, limit=3, polnear=polnear)
    assert report.pairs == 3 and len(read_rows(tmp_path / "a.jsonl")) == 3
    pseudo_label(tiny_model, tmp_path / "b.jsonl", min_confidence=0.01, limit=3, polnear=polnear)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"min_confidence": 0.0}, InputError, r"--min-confidence 0.0: must be between 0 and 1"),
        ({"min_confidence": 1.0}, InputError, r"--min-confidence 1.0: must be between 0 and 1"),
        ({"min_confidence": 1.5}, InputError, r"--min-confidence 1.5"),
        ({"limit": 0}, InputError, r"--limit 0: must be at least 1"),
        ({"output": "rows.csv"}, InputError, r"must end in .jsonl"),
        ({"model": "no-model"}, ModelLoadError, r"model folder .*no-model does not exist"),
        ({"polnear": "no-polnear"}, DataNotFoundError, r"PolNeAR not found at .*no-polnear"),
    ],
)
def test_bad_inputs_are_refused_in_one_line(tiny_model, polnear, tmp_path, kwargs, error, message):
    args = {"model": tiny_model, "output": "rows.jsonl", "polnear": polnear, **kwargs}
    for key in ("model", "output", "polnear"):
        args[key] = tmp_path / args[key] if isinstance(args[key], str) else args[key]
    with pytest.raises(error, match=message) as caught:
        pseudo_label(**args)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "rows.jsonl").exists()


def test_a_run_that_fails_leaves_the_old_file(tiny_model, polnear, tmp_path, monkeypatch):
    out = tmp_path / "pseudo.jsonl"
    out.write_text("the last good run\n")
    # a random tiny model is close to uniform: no pair comes near 0.99
    with pytest.raises(DataError, match=r"no pair of \d+ reached --min-confidence 0.99 \(highest 0\.\d+\)"):
        pseudo_label(tiny_model, out, min_confidence=0.99, polnear=polnear)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(StanceClassifier, "predict_proba", broken)
    with pytest.raises(RuntimeError):
        pseudo_label(tiny_model, out, min_confidence=0.01, polnear=polnear)
    assert out.read_text() == "the last good run\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pseudo")] == []


def test_data_extra_adds_files_after_the_sources(tmp_path):
    smoke = ROOT / "configs" / "smoke.yaml"
    one = load_config(smoke, {"data.extra": "news.jsonl"})
    assert [s.name for s in one.data.extra] == ["news.jsonl"]
    assert one.data.sources()[-1].name == "news.jsonl" and one.data.sources()[:-1] == one.data.train
    capped = load_config(smoke, {"data.extra": "[{name: news.jsonl, max_examples: 50}, more.csv]"})
    assert [(s.name, s.max_examples) for s in capped.data.extra] == [("news.jsonl", 50), ("more.csv", None)]
    assert load_config(smoke).data.extra == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("vast", r"data.extra\[0\].name='vast': expected a labelled file \(.jsonl, .json, .csv\)"),
        ("{name: news.jsonl, weight: 0}", r"data.extra\[0\].weight=0.0; allowed \(0, 100\]"),
        ("{file: news.jsonl}", r"unknown key data.extra\[0\].file"),
        ("5", r"data.extra: expected a file path or a list of them, got 5"),
        ("[5]", r"^data.extra\[0\]: expected a mapping, got 5$"),
        ("{weight: 2}", r"missing key data.extra\[0\].name"),  # a mapping without its file
    ],
)
def test_data_extra_is_validated(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "configs" / "smoke.yaml", {"data.extra": value})


def test_a_missing_extra_file_is_named_before_any_data_is_read(tmp_path):
    config = load_config(ROOT / "configs" / "smoke.yaml", {"data.extra": str(tmp_path / "gone.jsonl")})
    with pytest.raises(DataError, match=r"data.extra\[0\]: .*gone.jsonl: no such file") as caught:
        prepare_sources(config)
    assert "\n" not in str(caught.value)


def test_pseudo_labelled_rows_train_beside_the_sources(tiny_base, tiny_model, polnear, data_dir, tmp_path):
    from training.train import train

    out = tmp_path / "pseudo.jsonl"
    report = pseudo_label(tiny_model, out, min_confidence=0.01, polnear=polnear)
    config = tiny_config(tiny_base, {"data.extra": str(out), "data.dev_fraction": "0.3"}, max_steps=1)
    train_rows, dev, stats = prepare_sources(config)
    baseline = tiny_config(tiny_base, {"data.dev_fraction": "0.3"}, max_steps=1)
    base_rows, base_dev, _ = prepare_sources(baseline)
    # the pseudo rows join training; the named set's dev rows stay the ones the baseline scores
    assert dev["vast:train"] == base_dev["vast:train"]
    # an extra file goes to train whole: no held-out share to lose to split_dev
    assert stats[str(out)] == {"train": report.kept, "dev": 0}
    assert len(train_rows) == len(base_rows) + stats[str(out)]["train"]
    model = train(config, tmp_path / "model", evaluate_after=False)
    results = json.loads((model / "train_results.json").read_text())
    assert results["sources"][str(out)] == stats[str(out)]
    assert str(out) in (model / "README.md").read_text()


def test_cli_prints_counts_per_label_and_the_kept_share(tiny_model, polnear, tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data" / "quotes").mkdir(parents=True)
    polnear.rename(tmp_path / "data" / "quotes" / "polnear")
    out = tmp_path / "pseudo.jsonl"
    args = ["pseudo-label", str(tiny_model), "--output", str(out), "--limit", "4"]
    result = runner.invoke(app, [*args, "--min-confidence", "0.01"])
    assert result.exit_code == 0, result.output
    assert "kept 4 of 4 (100.0 %) at confidence >= 0.01" in result.output
    assert "not calibrated" in result.output
    counts = {line.split(":")[0].strip(): line for line in result.output.splitlines() if "predicted" in line}
    assert set(counts) == {"favor", "against", "none"}
    assert len(read_rows(out)) == 4
    bad = runner.invoke(app, [*args, "--min-confidence", "1.2"])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == [
        "error: --min-confidence 1.2: must be between 0 and 1 (exclusive), e.g. 0.9"
    ]


def test_cli_reads_polnear_from_the_folder_it_is_given(tiny_model, polnear, tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_DATA_DIR", str(tmp_path / "empty"))
    out = tmp_path / "pseudo.jsonl"
    args = ["pseudo-label", str(tiny_model), "-o", str(out), "--min-confidence", "0.01", "--limit", "2"]
    missing = runner.invoke(app, args)
    assert missing.exit_code != 0 and "stance data fetch polnear" in missing.output
    result = runner.invoke(app, [*args, "--polnear", str(polnear)])
    assert result.exit_code == 0, result.output
    assert len(read_rows(out)) == 2


def test_cli_default_threshold_is_the_librarys():
    from stance_cli.commands import pseudo_label as command

    assert command.DEFAULT_MIN_CONFIDENCE == DEFAULT_MIN_CONFIDENCE
