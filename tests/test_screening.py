"""The screening protocol: one lever per config, and dev rows that a lever cannot move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stance.config import DataSource, load_config
from training.splits import prepare_sources

ROOT = Path(__file__).resolve().parents[1]
SCREENS = sorted(p for p in (ROOT / "configs").glob("screen_*.yaml") if p.name != "screen_baseline.yaml")


def _flat(config) -> dict:
    out = {}
    for section, values in config.to_dict().items():
        for key, value in values.items():
            out[f"{section}.{key}"] = value
    return out


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.stem)
def test_each_screening_config_changes_one_lever_against_the_baseline(path):
    baseline = _flat(load_config(ROOT / "configs" / "screen_baseline.yaml"))
    lever = _flat(load_config(path))
    changed = [key for key in baseline if baseline[key] != lever[key]]
    assert len(changed) == 1, changed
    if changed == ["data.train"]:
        assert lever["data.train"][: len(baseline["data.train"])] == baseline["data.train"]


def test_adding_a_source_leaves_the_other_sources_train_and_dev_rows_alone(data_dir, tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        "".join(
            json.dumps({"text": f"news line {i}", "topic": f"claim {i % 25}", "label": "none"}) + "\n"
            for i in range(100)
        )
    )
    config = load_config(ROOT / "configs" / "smoke.yaml", {"data.dev_fraction": "0.3"})
    train, dev, _ = prepare_sources(config)
    config.data.train.append(DataSource(str(extra)))
    train_plus, dev_plus, _ = prepare_sources(config)
    assert dev_plus["vast:train"] == dev["vast:train"] and dev["vast:train"]
    assert set(train) < set(train_plus)


def _before_and_at_weight(weight: float) -> tuple[tuple, tuple]:
    """``prepare_sources`` of the smoke config, then again with its first source at ``weight``."""
    config = load_config(ROOT / "configs" / "smoke.yaml", {"data.dev_fraction": "0.3"})
    before = prepare_sources(config)
    config.data.train[0].weight = weight
    return before, prepare_sources(config)


def test_a_weighted_source_repeats_its_training_rows_but_not_its_dev_rows(data_dir):
    (train, dev, _), (train3, dev3, _) = _before_and_at_weight(3)
    spec = next(iter(dev))
    assert dev3[spec] == dev[spec] and dev[spec]
    assert len(train3) > 2 * len(train)


def test_a_weight_below_one_thins_the_training_rows_and_leaves_dev_whole(data_dir):
    (train, dev, stats), (half, dev_half, stats_half) = _before_and_at_weight(0.5)
    spec = next(iter(dev))
    assert dev_half[spec] == dev[spec] and dev[spec]
    assert stats_half[spec]["train"] == round(0.5 * stats[spec]["train"])
    assert {e.text for e in half} < {e.text for e in train}
