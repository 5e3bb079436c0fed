"""Metrics on hand-computed cases."""

import math

import pytest

from stance.metrics import (
    classification_metrics,
    confusion_matrix,
    ece_floor,
    expected_calibration_error,
    per_topic_metrics,
    risk_coverage,
)


def test_perfect_predictions():
    gold = ["favor", "against", "none", "favor"]
    m = classification_metrics(gold, gold)
    assert m["accuracy"] == 1 and m["macro_f1"] == 1 and m["f_avg"] == 1


def test_hand_computed_case():
    gold = ["favor", "favor", "against", "against", "none"]
    pred = ["favor", "against", "against", "none", "none"]
    m = classification_metrics(gold, pred)
    # favor P=1 R=.5 F=.667; against P=.5 R=.5 F=.5; none P=.5 R=1 F=.667
    assert m["per_label"]["favor"]["f1"] == pytest.approx(2 / 3)
    assert m["per_label"]["against"]["f1"] == pytest.approx(0.5)
    assert m["f_avg"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 2 / 3) / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_labels_absent_from_gold_and_predictions_do_not_count():
    m = classification_metrics(["favor", "against"], ["favor", "against"])
    assert m["macro_f1"] == 1


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        classification_metrics(["favor", "none"], ["favor"])


def test_per_topic_and_confusion():
    assert confusion_matrix(["none"], ["favor"]) == [[0, 0, 0], [0, 0, 0], [1, 0, 0]]
    topics = per_topic_metrics(["favor", "none", "against"], ["favor", "favor", "against"], ["a", "a", "b"])
    assert topics["a"]["accuracy"] == 0.5 and topics["b"]["n"] == 1


def test_expected_calibration_error_on_literal_bins():
    # bin 0.9: accuracy 0.5 -> gap 0.4 on half the rows; bin 0.6: gap 0.1 on the other half
    ece = expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, False])
    assert ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)
    assert expected_calibration_error([1.0, 0.75, 0.75, 0.75, 0.75], [True, True, True, True, False]) == 0.0


def test_the_ece_floor_is_what_sampling_alone_gives_a_calibrated_model():
    # one bin at 0.5 over 200 rows: E|accuracy - 0.5| = sqrt(0.25 / 200) * sqrt(2 / pi) = 0.028
    assert ece_floor([0.5] * 200) == pytest.approx(math.sqrt(0.25 / 200) * math.sqrt(2 / math.pi), abs=0.004)
    assert ece_floor([1.0] * 50) == 0.0 and ece_floor([]) == 0.0
    assert ece_floor([0.7] * 100) > ece_floor([0.7] * 2000)
    assert ece_floor([0.6, 0.8] * 50, seed=3) == ece_floor([0.6, 0.8] * 50, seed=3)


def test_expected_calibration_error_refuses_what_is_not_a_probability():
    with pytest.raises(ValueError, match="not a probability"):
        expected_calibration_error([1.2], [True])
    with pytest.raises(ValueError, match="2 confidences but 1"):
        expected_calibration_error([0.5, 0.5], [True])


def test_risk_coverage_keeps_the_most_confident_rows():
    confidences = [0.95, 0.4, 0.9, 0.5, 0.85, 0.6, 0.8, 0.7, 0.75, 0.3]
    correct = [True, False, True, False, True, True, True, False, True, False]
    table = risk_coverage(confidences, correct)
    assert [(r["coverage"], r["kept"]) for r in table] == [(1.0, 10), (0.9, 9), (0.7, 7), (0.5, 5)]
    # kept at 50 %: 0.95, 0.9, 0.85, 0.8, 0.75 -> all right
    assert [r["accuracy"] for r in table] == pytest.approx([0.6, 6 / 9, 6 / 7, 1.0])
    assert table[-1]["min_confidence"] == 0.75
