"""The topic as an NLI-style hypothesis: configured, recorded in the model folder, used at predict."""

from __future__ import annotations

import json

import pytest
import torch

from stance.config import ConfigError, load_config
from stance.model.classifier import StanceClassifier

TEMPLATE = "The author is in favor of {topic}."
TEXTS = ["we support the deal", "we oppose the accord", "the talks are about tax"]


def test_the_template_is_recorded_and_prediction_reads_topics_through_it(tiny_model, tmp_path):
    plain = StanceClassifier.from_pretrained(tiny_model)
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.topic_template = TEMPLATE
    folder = clf.save_pretrained(tmp_path / "templated")
    assert json.loads((folder / "stance_config.json").read_text())["topic_template"] == TEMPLATE

    loaded = StanceClassifier.from_pretrained(folder)
    assert loaded.topic_template == TEMPLATE
    with_template = loaded.predict_proba(TEXTS, "the deal")
    assert torch.allclose(with_template, plain.predict_proba(TEXTS, "The author is in favor of the deal."))
    assert not torch.allclose(with_template, plain.predict_proba(TEXTS, "the deal"))


def test_without_a_template_the_folder_and_the_topic_stay_as_before(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    assert clf.topic_template is None and clf.hypothesis("the deal") == "the deal"
    assert json.loads((tiny_model / "stance_config.json").read_text()) == {"max_length": 32}


def test_a_long_template_counts_against_the_topic_budget(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.topic_template = "{topic} " + "we " * 30  # the tiny model reads 32 tokens in all
    with pytest.raises(ValueError, match="tokens"):
        clf.predict(TEXTS, "the deal")


@pytest.mark.parametrize("template", ["no field", "both {topic} and {topic}", "the {subject}", "the {topic"])
def test_a_bad_template_is_refused_naming_the_key(template):
    with pytest.raises(ConfigError, match="model.topic_template"):
        load_config("configs/smoke.yaml", {"model.topic_template": template})


def test_the_screening_config_sets_it():
    assert load_config("configs/screen_nli.yaml").model.topic_template == TEMPLATE
