"""Opt-in tests with the real all-MiniLM-L6-v2 encoder and the real data (pytest -m slow)."""

from pathlib import Path

import pytest

from stance.model.encoders import get_encoder, resolve_encoder
from stance.model.folder import weights_sha256
from stance.settings import data_dir

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_base_encoder_is_pinned_and_verified():
    path = resolve_encoder("minilm")
    assert weights_sha256(path) == get_encoder("minilm").weights_sha256


def test_real_encoder_fine_tunes_a_few_steps(tmp_path, monkeypatch):
    from stance.config import load_config
    from stance.model.classifier import StanceClassifier
    from training.train import train

    if data_dir(required=False) is None:
        pytest.skip("no data folder")
    cfg = load_config(ROOT / "configs" / "smoke.yaml", {"train.max_steps": "4"})
    out = train(cfg, tmp_path / "model", evaluate_after=False)
    clf = StanceClassifier.from_pretrained(out)
    preds = clf.predict(["We must protect the climate.", "Taxes are theft."], "climate change")
    assert len(preds) == 2 and all(abs(sum(p.scores.values()) - 1) < 1e-5 for p in preds)


def test_quote_splitter_meets_its_polnear_dev_floor():
    from training.quotes_eval import evaluate_quotes

    if data_dir(required=False) is None:
        pytest.skip("no data folder")
    result = evaluate_quotes(split="dev")
    # floors a little under the measured figures, so a regression fails this test
    assert result["span_f1"] >= 0.92
    assert result["speaker_accuracy"] >= 0.86


CLIENT_ARTICLE = ROOT.parent / "shared" / "seeds" / "000_8138c3c1e7cbee0d.txt"
CLIENT_TOPICS = ["the JCPOA", "cooperation between Iran and Russia", "Israel"]


# (speaker, words in the quote or None for the speaker summary, topic, expected label)
CLIENT_EXPECTATIONS = {
    "lavrov_jcpoa_favor": ("Sergei Lavrov", None, "the JCPOA", "favor"),
    "raeisi_cooperation_favor": (
        "Ebrahim Raeisi",
        "cooperation between the two countries",
        "cooperation between Iran and Russia",
        "favor",
    ),
    "jalali_cooperation_favor": (
        "Kazem Jalali",
        "This meeting is considered important",
        "cooperation between Iran and Russia",
        "favor",
    ),
    "jalali_jcpoa_none": ("Kazem Jalali", "This meeting is considered important", "the JCPOA", "none"),
    "amir_abdollahian_israel_against": ("Hossein Amir-Abdollahian", "Zionist regime", "Israel", "against"),
}
# Measured misses (README, Figures): strict, so a model that gets them right makes this test fail
# until the mark is removed. A key "default:gold" holds only for a default trained on gold labels
# (no teacher: `make train` without models/large), "default" for either recipe.
KNOWN_MISSES = {
    ("default", "lavrov_jcpoa_favor"): (
        "default (distilled 2026-11-29 and 2026-12-02; gold labels 2026-12-01, with FNC-1 too): "
        "Lavrov's summary is not favor on the JCPOA"
    ),
    ("default", "amir_abdollahian_israel_against"): (
        "default distilled from run 33 (2026-12-03, seeds 42 and 7): favor 0.47 against 0.32 / 0.43 "
        "on the borders quote (the students of runs 30 and 9 said against)"
    ),
    ("default:gold", "amir_abdollahian_israel_against"): (
        "default on gold labels with FNC-1 (2026-12-01, seeds 42 and 7): favor 0.50 and 0.56"
    ),
}


def _recipe(model_name: str) -> str:
    """``distilled`` when the model folder records a teacher, else ``gold`` (also when absent)."""
    import json

    results = ROOT / "models" / model_name / "train_results.json"
    try:
        teacher = json.loads(results.read_text(encoding="utf-8")).get("distill", {}).get("teacher")
    except (OSError, ValueError, AttributeError):
        teacher = None
    return "distilled" if teacher else "gold"


def _client_cases():
    for model_name in ("large", "default"):
        recipe = _recipe(model_name)
        for check in CLIENT_EXPECTATIONS:
            keys = [(model_name, check), (f"{model_name}:{recipe}", check)]
            reason = next((KNOWN_MISSES[k] for k in keys if k in KNOWN_MISSES), None)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(model_name, check, marks=marks, id=f"{model_name}-{check}")


_ANALYSES: dict = {}


def _client_analysis(model_name):
    from stance.analysis import analyze
    from stance.model.classifier import StanceClassifier

    folder = ROOT / "models" / model_name
    if not (folder / "model.safetensors").is_file():
        pytest.skip(f"no trained model at {folder} (make train-large / make train)")
    if not CLIENT_ARTICLE.is_file():
        pytest.skip("the client's article is not beside this checkout")
    if model_name not in _ANALYSES:
        text = CLIENT_ARTICLE.read_text(encoding="utf-8")
        clf = StanceClassifier.from_pretrained(folder, precision="auto")
        _ANALYSES[model_name] = analyze(text, CLIENT_TOPICS, clf)
    return _ANALYSES[model_name]


@pytest.mark.parametrize("model_name, check", list(_client_cases()))
def test_client_article_stances(model_name, check):
    """The client's expectations for its own article, with the large and the distilled model."""
    result = _client_analysis(model_name)
    speaker, needle, topic, expected = CLIENT_EXPECTATIONS[check]
    if needle is None:
        summary = {(s.speaker, s.topic): s.stance for s in result.speakers}
        assert summary[(speaker, topic)] == expected
        return
    labels = [
        s.label
        for qa in result.quotes
        if qa.quote.speaker == speaker and needle in qa.quote.text
        for s in qa.stances
        if s.topic == topic
    ]
    assert labels == [expected]
