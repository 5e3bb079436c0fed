"""Config loading: defaults < YAML < dotted overrides, and errors that name key and value."""

import pytest

from stance.config import ConfigError, load_config

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_shipped_configs_load():
    for name in ("default", "quick", "smoke"):
        cfg = load_config(ROOT / "configs" / f"{name}.yaml")
        assert cfg.data.train and cfg.train.lr > 0


def test_overrides_win_over_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 1.0e-4\n  epochs: 2\n")
    cfg = load_config(path, {"train.lr": "3e-5", "model.max_length": "64"})
    assert cfg.train.lr == 3e-5 and cfg.train.epochs == 2.0 and cfg.model.max_length == 64


@pytest.mark.parametrize(
    ("yaml_text", "overrides", "message"),
    [
        ("train:\n  lr: 5\n", {}, r"train.lr=5.0 is out of range"),
        ("train:\n  batch_size: many\n", {}, r"train.batch_size: expected int, got 'many'"),
        ("train:\n  lr_typo: 1\n", {}, r"unknown key train.lr_typo"),
        ("bogus: {}\n", {}, r"unknown key bogus"),
        ("", {"train.epochs": "0"}, r"train.epochs=0.0 is out of range"),
        ("", {"lr": "1"}, r"expected --section.key"),
        ("data:\n  train: []\n", {}, r"data.train: expected a non-empty list"),
        ("data:\n  train: [{name: vast, weight: -1}]\n", {}, r"data.train\[0\].weight"),
        ("train: [1, 2\n", {}, r"not valid YAML"),
        ("- 1\n", {}, r"expected a mapping at the top level, got list"),
        ("", {"train.lr": "[1"}, r"train.lr: expected float, got '\[1'"),
        ("", {"data.eval": "5"}, r"data.eval: expected a list of names, got 5"),
        ("", {"data.eval": "[vast:test, {a: 1}]"}, r"data.eval: expected a list of names"),
        ("data:\n  train: [{name: vast, columns: 5}]\n", {}, r"data.train\[0\].columns: expected a mapping"),
        ("data:\n  train: [{name: vast, split: [1]}]\n", {}, r"data.train\[0\].split: expected str"),
        ("", {"model.topic_template": "'{topic!z}'"}, r"topic_template='\{topic!z\}': .*plain \{topic\}"),
        ("", {"model.topic_template": "'{topic:d}'"}, r"model.topic_template='\{topic:d\}'"),
        ("", {"model.base": "[a]"}, r"model.base: expected str, got \['a'\]"),
    ],
)
def test_bad_values_are_named(tmp_path, yaml_text, overrides, message):
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config(path, overrides)


def test_missing_config_file():
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("no/such/file.yaml")


def test_one_test_set_on_the_command_line_is_a_list_of_one():
    assert load_config(None, {"data.eval": "vast:test"}).data.eval == ["vast:test"]
