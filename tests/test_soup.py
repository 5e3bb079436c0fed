"""``stance soup``: tiny runs of one recipe at two seeds on one split, their weights averaged into a
model folder that loads, calibrates and says where its dev figures come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from stance.errors import InputError
from stance.model.classifier import StanceClassifier
from stance.model.folder import MODEL_CARD, TRAIN_RESULTS
from stance_cli.app import app
from tests.conftest import tiny_config
from training.evaluate import model_dev_split
from training.soup import write_soup
from training.train import train


def _member(tiny_base, tmp_path, seed: int, split_seed: int = 42) -> Path:
    overrides = {"data.split_seed": str(split_seed), "data.dev_fraction": "0.2"}
    config = tiny_config(tiny_base, overrides, max_steps=2, seed=seed)
    return train(config, tmp_path / f"seed{seed}-split{split_seed}", evaluate_after=False)


@pytest.fixture()
def members(tiny_base, data_dir, tmp_path) -> list[Path]:
    return [_member(tiny_base, tmp_path, 1), _member(tiny_base, tmp_path, 2)]


def test_a_soup_is_the_mean_of_its_members_and_a_model_folder(members, tmp_path):
    out = tmp_path / "soup"
    results = write_soup(members, out)

    soup = StanceClassifier.from_pretrained(out)  # checksums verified
    states = [StanceClassifier.from_pretrained(m).model.state_dict() for m in members]
    for key, value in soup.model.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, (states[0][key] + states[1][key]) / 2, atol=1e-6), key
    assert not torch.equal(states[0]["classifier.weight"], states[1]["classifier.weight"])
    # scored on the rows both members held out, beside their own figures on them
    dev = model_dev_split(out)
    assert dev == model_dev_split(members[0]) == model_dev_split(members[1])
    assert dev and results["dev_examples"] == len(dev) and results["split_seed"] == 42
    assert [m["seed"] for m in results["soup_of"]] == [1, 2]
    assert set(results["dev_by_source"]) == set(results["soup_of"][0]["dev_by_source"])
    assert json.loads((out / TRAIN_RESULTS).read_text()) == results
    card = (out / MODEL_CARD).read_text()
    assert "seeds 1, 2 (weights averaged" in card and "## Soup" in card
    assert "| **soup** |" in card and "seed1-split42" in card
    assert soup.predict(["we love the deal"], "the deal")[0].label in soup.labels


def test_members_on_other_splits_are_refused(tiny_base, data_dir, tmp_path):
    # a member that trained on the other's dev rows would flatter the soup's dev figures
    members = [_member(tiny_base, tmp_path, 1, split_seed=1), _member(tiny_base, tmp_path, 2, split_seed=2)]
    with pytest.raises(InputError, match="--data.split_seed"):
        write_soup(members, tmp_path / "soup")
    assert not (tmp_path / "soup").exists()


def test_the_command_says_what_is_wrong_without_a_traceback(members, tmp_path):
    runner = CliRunner()
    one = runner.invoke(app, ["soup", str(members[0]), "-o", str(tmp_path / "soup")])
    assert one.exit_code == 2 and "at least two model folders" in one.output
    absent = runner.invoke(
        app, ["soup", str(members[0]), str(tmp_path / "nowhere"), "-o", str(tmp_path / "s")]
    )
    assert (
        absent.exit_code == 3
        and "nowhere: no such model folder" in absent.output
        and "Traceback" not in absent.output
    )

    over = runner.invoke(app, ["soup", *map(str, members), "-o", str(members[1])])
    assert over.exit_code == 2 and "is one of the members" in over.output
    done = runner.invoke(app, ["soup", *map(str, members), "-o", str(tmp_path / "soup")])
    assert done.exit_code == 0, done.output
    assert "dev vast:train: macro-F1" in done.output and "soup of 2 models written" in done.output
