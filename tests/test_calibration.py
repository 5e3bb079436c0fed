"""Temperature scaling: the fit, the folder file, its checksum, `stance calibrate` and evaluation."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from stance.data.examples import DataError
from stance.errors import InputError, ModelLoadError
from stance.model.calibration import Calibration, calibrate_logits, fit_temperature, nll
from stance.model.classifier import StanceClassifier
from training.evaluate import calibrate_model, evaluate

TEXTS = ["we support the deal", "we oppose the accord", "the talks are about tax"]


def _overconfident(n: int = 300, right: float = 0.6, margin: float = 6.0):
    """Logits that put ~99 % on the predicted label, which is right only ``right`` of the time."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (n,), generator=generator)
    wrong = (labels + torch.randint(1, 3, (n,), generator=generator)) % 3
    predicted = torch.where(torch.rand(n, generator=generator) < right, labels, wrong)
    return torch.nn.functional.one_hot(predicted, 3).float() * margin, labels


def test_a_temperature_fitted_on_an_overconfident_set_lowers_nll_and_ece():
    logits, labels = _overconfident()
    calibration = calibrate_logits(logits, labels, "synthetic")
    assert calibration.temperature > 2
    assert calibration.nll_after < calibration.nll_before - 1
    assert calibration.ece_after < 0.05 < calibration.ece_before
    # labels never move: the arg-max of logits / T is the arg-max of logits
    assert torch.equal((logits / calibration.temperature).argmax(-1), logits.argmax(-1))


def test_an_underconfident_set_is_sharpened():
    logits, labels = _overconfident(right=0.95, margin=0.5)
    temperature = fit_temperature(logits, labels)
    assert temperature < 1
    assert nll(logits, labels, temperature) < nll(logits, labels)


def test_fit_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="need"):
        fit_temperature(torch.zeros(3, 3), torch.zeros(2, dtype=torch.long))


def _copy(tiny_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    return folder


def test_the_calibration_file_is_loaded_checksummed_and_applied(tiny_model, tmp_path):
    plain = StanceClassifier.from_pretrained(tiny_model)
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.calibration = Calibration(2.5, "test", 10, 1.0, 0.9, 0.2, 0.1)
    folder = clf.save_pretrained(tmp_path / "calibrated")
    assert "calibration.json" in json.loads((folder / "checksums.json").read_text())

    loaded = StanceClassifier.from_pretrained(folder)
    assert loaded.temperature == 2.5
    raw = plain.predict_proba(TEXTS, "the deal")
    expected = torch.softmax(torch.log(raw) / 2.5, dim=-1)
    assert torch.allclose(loaded.predict_proba(TEXTS, "the deal"), expected, atol=1e-5)
    assert [p.label for p in loaded.predict(TEXTS, "the deal")] == [
        p.label for p in plain.predict(TEXTS, "the deal")
    ]

    record = json.loads((folder / "calibration.json").read_text())
    (folder / "calibration.json").write_text(json.dumps({**record, "temperature": 0.5}))
    with pytest.raises(ModelLoadError, match="calibration.json sha256"):
        StanceClassifier.from_pretrained(folder)


def test_stance_calibrate_fits_on_named_data_and_keeps_the_folder_loadable(tiny_model, data_dir, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    calibration = calibrate_model(folder, ["vast:train", "vast:test"])
    assert calibration.n == 56 and calibration.fitted_on == "vast:train, vast:test (56 rows)"
    assert calibration.nll_after <= calibration.nll_before
    loaded = StanceClassifier.from_pretrained(folder)
    assert loaded.temperature == calibration.temperature
    assert "calibration.json" in json.loads((folder / "checksums.json").read_text())
    assert not list(tmp_path.glob(".model*")), "no temporary folder left behind"


def test_stance_calibrate_can_change_what_the_model_reads(tiny_model, data_dir, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    (folder / "README.md").write_text("# a card\n")
    (folder / "eval_results.json").write_text("{}")
    with pytest.raises(InputError, match="8 to 512"):
        calibrate_model(folder, ["vast:train", "vast:test"], max_length=4)
    assert not (folder / "calibration.json").exists()
    calibration = calibrate_model(folder, ["vast:train", "vast:test"], max_length=16)
    loaded = StanceClassifier.from_pretrained(folder)  # checksums cover the new settings
    assert loaded.max_length == 16 and loaded.temperature == calibration.temperature
    assert (
        "Reads up to 16 tokens since `stance calibrate --max-length 16` (before: 32)"
        in (folder / "README.md").read_text()
    )
    # figures read at 32 tokens are no longer the model's
    assert not (folder / "eval_results.json").exists() and (folder / "eval_results_32tokens.json").is_file()


def test_stance_calibrate_without_a_rebuildable_dev_split_says_to_pass_data(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    with pytest.raises(DataError, match="pass --data"):
        calibrate_model(folder)
    assert not (folder / "calibration.json").exists()


def test_too_few_rows_are_refused(tiny_model, data_dir, tmp_path):
    with pytest.raises(DataError, match="at least 50"):
        calibrate_model(_copy(tiny_model, tmp_path), ["vast:test"])


def test_evaluation_reports_ece_before_and_after_and_risk_coverage(tiny_model, data_dir, tmp_path):
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.calibration = Calibration(3.0, "test", 10, 1.0, 0.9, 0.2, 0.1)
    m = evaluate(clf, "vast:test")["vast:test"]
    assert m["temperature"] == 3.0
    assert m["ece"] != m["ece_uncalibrated"]
    assert 0.0 < m["ece_floor"] < 1.0
    assert [r["coverage"] for r in m["risk_coverage"]] == [1.0, 0.9, 0.7, 0.5]
    assert m["risk_coverage"][0]["accuracy"] == m["accuracy"]


def test_the_cli_calibrates_then_evaluate_prints_the_confidence_table(tiny_model, data_dir, tmp_path):
    from typer.testing import CliRunner

    from stance_cli.app import app

    folder = _copy(tiny_model, tmp_path)
    runner = CliRunner()
    fitted = runner.invoke(app, ["calibrate", str(folder), "--data", "vast:train", "--data", "vast:test"])
    assert fitted.exit_code == 0, fitted.output
    assert "temperature" in fitted.output and (folder / "calibration.json").is_file()
    shown = runner.invoke(app, ["evaluate", str(folder), "vast:test"])
    assert shown.exit_code == 0, shown.output
    assert "ECE raw" in shown.output and "floor" in shown.output and "acc@70%" in shown.output
    refused = runner.invoke(app, ["calibrate", str(_copy(tiny_model, tmp_path / "other"))])
    assert refused.exit_code == 2 and "pass --data" in refused.output
    too_short = runner.invoke(app, ["calibrate", str(folder), "--data", "vast:train", "--max-length", "4"])
    assert too_short.exit_code == 2 and "8 to 512 tokens" in too_short.output
