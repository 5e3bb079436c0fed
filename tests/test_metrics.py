"""Metrics on hand-computed cases."""

import pytest

from stance.metrics import classification_metrics, confusion_matrix, per_topic_metrics


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
