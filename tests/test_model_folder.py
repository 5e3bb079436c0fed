"""A model folder is whole or refused: checksums cover every file that changes what the model says,
a folder without its tokenizer is refused, and a refused folder is one line, never a traceback."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from typer.testing import CliRunner

from stance.errors import ModelLoadError
from stance.model.folder import CHECKSUMS, WEIGHTS, recorded_weights_sha256, verify_folder, weights_sha256


@pytest.fixture()
def folder(tiny_model, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model, copy)
    return copy


def test_checksums_cover_weights_configs_and_tokenizer(folder):
    listed = json.loads((folder / CHECKSUMS).read_text())
    assert {
        "model.safetensors",
        "config.json",
        "stance_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    } <= set(listed)
    verify_folder(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: (f / "config.json").write_text(
                (f / "config.json").read_text().replace('"favor"', '"FAVOR"')
            ),
            "config.json sha256",
        ),
        (lambda f: (f / "stance_config.json").write_text('{"max_length": 512}'), "stance_config.json sha256"),
        (
            lambda f: (f / "tokenizer.json").write_text(
                (f / "tokenizer.json").read_text().replace('"[UNK]"', '"[unk]"')
            ),
            "tokenizer.json sha256",
        ),
        (lambda f: (f / "vocab.txt").write_text("[PAD]\n"), "vocab.txt not covered"),
        (
            lambda f: (f / "tokenizer_config.json").unlink(),
            "tokenizer_config.json, listed in checksums.json, is missing",
        ),
        (lambda f: (f / "tokenizer.json").unlink(), "missing its tokenizer"),
        (lambda f: (f / CHECKSUMS).write_bytes(b"\xff\x00binary"), "unreadable checksums.json"),
        (lambda f: (f / CHECKSUMS).write_text('["model.safetensors"]'), "not a map of file name to sha256"),
    ],
    ids=[
        "labels",
        "max-length",
        "tokenizer",
        "unlisted-vocab",
        "listed-missing",
        "no-tokenizer",
        "binary",
        "list",
    ],
)
def test_a_folder_changed_after_saving_is_refused_by_name(folder, change, message):
    from stance.model.classifier import StanceClassifier

    change(folder)
    with pytest.raises(ModelLoadError, match=message):
        StanceClassifier.from_pretrained(folder)


def test_a_folder_whose_checksums_cover_only_the_weights_loads_with_a_warning(folder, caplog):
    listed = json.loads((folder / CHECKSUMS).read_text())
    (folder / CHECKSUMS).write_text(json.dumps({"model.safetensors": listed["model.safetensors"]}))
    with caplog.at_level(logging.WARNING):
        verify_folder(folder)
    assert "covers the weights only" in caplog.text


def test_settings_that_are_not_json_are_refused_by_name_in_a_folder_of_the_older_format(folder):
    from stance.model.classifier import StanceClassifier

    listed = json.loads((folder / CHECKSUMS).read_text())
    (folder / CHECKSUMS).write_text(json.dumps({"model.safetensors": listed["model.safetensors"]}))
    (folder / "stance_config.json").write_text('{"max_length": 12')
    with pytest.raises(ModelLoadError, match="stance_config.json: not valid JSON"):
        StanceClassifier.from_pretrained(folder)


@pytest.mark.parametrize("command", [["serve", "--model"], ["predict", "--text", "hi", "--topic", "t"]])
def test_a_refused_folder_is_one_line_and_exit_3(folder, command):
    from stance_cli.app import app

    (folder / "tokenizer.json").unlink()
    args = [*command, str(folder)] if command[0] == "serve" else [command[0], str(folder), *command[1:]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "missing its tokenizer" in result.output


def test_the_recorded_weights_checksum_is_read_or_computed_only_when_asked(folder):
    recorded = json.loads((folder / CHECKSUMS).read_text())[WEIGHTS]
    assert recorded_weights_sha256(folder) == recorded == weights_sha256(folder)
    (folder / CHECKSUMS).write_text("[not a map]")
    # a request handler (compute=False) never hashes the weights; anything else gets them hashed
    assert recorded_weights_sha256(folder, compute=False) is None
    assert recorded_weights_sha256(folder) == recorded
    (folder / CHECKSUMS).unlink()
    assert recorded_weights_sha256(folder, compute=False) is None
    assert recorded_weights_sha256(folder / "gone") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", "not a YAML text file"),
        (b"- a list\n", "expected a mapping"),
        (b"a: [\n", "not valid YAML"),
    ],
)
def test_metadata_of_a_resolved_config_that_is_not_a_yaml_mapping_is_a_load_error(tmp_path, content, message):
    from stance.model.folder import RESOLVED_CONFIG, read_metadata

    (tmp_path / RESOLVED_CONFIG).write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        read_metadata(tmp_path)


def test_metadata_reads_past_sections_of_the_wrong_shape(tmp_path):
    from stance.model.folder import RESOLVED_CONFIG, read_metadata

    (tmp_path / RESOLVED_CONFIG).write_text("data: 5\nmodel: [x]\n")
    meta = read_metadata(tmp_path)
    assert meta.training_data == [] and meta.max_length == 128
