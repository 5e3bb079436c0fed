"""Opt-in tests with the real all-MiniLM-L6-v2 encoder and the real data (pytest -m slow)."""

from pathlib import Path

import pytest

from stance.settings import BASE_ENCODER_SHA256, base_encoder_path, data_dir, sha256_file

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_base_encoder_is_pinned_and_verified():
    path = base_encoder_path()
    assert sha256_file(path / "model.safetensors") == BASE_ENCODER_SHA256


def test_real_encoder_fine_tunes_a_few_steps(tmp_path, monkeypatch):
    from stance.config import load_config
    from stance.model import StanceClassifier
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


@pytest.mark.parametrize("model_name", ["large", "default"])
def test_client_article_stances(model_name):
    """The client's expectations for its own article, with the large and the distilled model."""
    from stance.analysis import analyze
    from stance.model import StanceClassifier

    folder = ROOT / "models" / model_name
    if not (folder / "model.safetensors").is_file():
        pytest.skip(f"no trained model at {folder} (make train-large / make train)")
    if not CLIENT_ARTICLE.is_file():
        pytest.skip("the client's article is not beside this checkout")
    text = CLIENT_ARTICLE.read_text(encoding="utf-8")
    result = analyze(text, CLIENT_TOPICS, StanceClassifier.from_pretrained(folder, precision="auto"))
    summary = {(s.speaker, s.topic): s.stance for s in result.speakers}
    assert summary[("Sergei Lavrov", "the JCPOA")] == "favor"

    def stances(speaker, needle, topic):
        return [
            s.label
            for qa in result.quotes
            if qa.quote.speaker == speaker and needle in qa.quote.text
            for s in qa.stances
            if s.topic == topic
        ]

    cooperation = "cooperation between Iran and Russia"
    assert stances("Ebrahim Raeisi", "cooperation between the two countries", cooperation) == ["favor"]
    assert stances("Kazem Jalali", "This meeting is considered important", cooperation) == ["favor"]
    assert stances("Kazem Jalali", "This meeting is considered important", "the JCPOA") == ["none"]
    assert stances("Hossein Amir-Abdollahian", "Zionist regime", "Israel") == ["against"]
