"""A confidence threshold: stances under it are `uncertain`, never counted as favor or against."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import ServiceSettings
from stance.analysis import analyze, apply_min_confidence
from stance.errors import InputError
from stance.pairs import StancePair, StancePrediction

ARTICLE = (
    "Foreign Minister Sergei Lavrov met Iran's envoy.\n\n"
    "“We will revive the accord,” Lavrov said.\n\n"
    "“The deal is good for the region,” he added."
)


def _prediction(label: str, score: float) -> StancePrediction:
    rest = (1 - score) / 2
    return StancePrediction(
        label, score, {x: score if x == label else rest for x in ("favor", "against", "none")}
    )


def _fake(scores: list[tuple[str, float]]):
    def predict(pairs: list[StancePair]) -> list[StancePrediction]:
        return [_prediction(*scores[i % len(scores)]) for i in range(len(pairs))]

    return predict


def test_a_weak_stance_is_uncertain_and_left_out_of_the_speaker_majority():
    # two quotes by Lavrov: a weak favor (0.45) and a firm against (0.8)
    predict = _fake([("favor", 0.45), ("against", 0.8)])
    before = analyze(ARTICLE, "the accord", predict=predict)
    after = analyze(ARTICLE, "the accord", predict=predict, min_confidence=0.5)
    assert [s.label for q in before.quotes for s in q.stances] == ["favor", "against"]
    assert [s.label for q in after.quotes for s in q.stances] == ["uncertain", "against"]
    assert [q.stances[0].score for q in after.quotes] == [0.45, 0.8]  # probabilities unchanged
    (summary,) = after.speakers
    assert (summary.speaker, summary.quotes, summary.stance) == ("Sergei Lavrov", 2, "against")


def test_a_speaker_with_only_uncertain_stances_is_uncertain():
    analysis = analyze(ARTICLE, "the accord", predict=_fake([("favor", 0.45)]), min_confidence=0.5)
    assert [s.stance for s in analysis.speakers] == ["uncertain"]


def test_the_threshold_is_off_by_default_and_checked():
    preds = [_prediction("none", 0.34)]
    assert apply_min_confidence(preds, None) == preds
    with pytest.raises(InputError, match="min_confidence"):
        analyze(ARTICLE, "the accord", predict=_fake([("favor", 0.9)]), min_confidence=1.5)


def test_the_api_reports_uncertain_on_request(tiny_model):
    with TestClient(create_app(ServiceSettings(model_path=str(tiny_model)))) as client:
        items = [{"text": "we support the deal", "topic": "the deal"}]
        plain = client.post("/v1/stance", json={"items": items}).json()["results"][0]
        assert plain["label"] != "uncertain"
        # the untrained tiny model is never sure: its top probability is well under 0.99
        sure = client.post("/v1/stance", json={"items": items, "min_confidence": 0.99}).json()["results"][0]
        assert sure["label"] == "uncertain" and sure["scores"] == plain["scores"]
        analysis = client.post(
            "/v1/analyze", json={"text": ARTICLE, "topics": ["the accord"], "min_confidence": 0.99}
        ).json()
        assert {s["label"] for q in analysis["quotes"] for s in q["stances"]} == {"uncertain"}
        assert [s["stance"] for s in analysis["speakers"]] == ["uncertain"]
        bad = client.post("/v1/stance", json={"items": items, "min_confidence": 2})
        assert bad.status_code == 422


def test_predict_streams_uncertain_labels_under_the_threshold(tiny_model):
    import io
    import json

    from stance.bulk import predict_stream
    from stance.model.classifier import StanceClassifier

    clf = StanceClassifier.from_pretrained(tiny_model)
    rows = [
        {"text": "we support the deal", "topic": "the deal"},
        {"text": "we hate the accord", "topic": "x"},
    ]
    plain, strict = io.StringIO(), io.StringIO()
    predict_stream(clf, rows, plain)
    predict_stream(clf, rows, strict, min_confidence=0.99)
    before = [json.loads(line) for line in plain.getvalue().splitlines()]
    after = [json.loads(line) for line in strict.getvalue().splitlines()]
    assert [r["label"] for r in after] == ["uncertain", "uncertain"]
    assert [r["scores"] for r in after] == [r["scores"] for r in before]
