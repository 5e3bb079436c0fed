"""analyze(): quotes joined with per-topic stances and per-speaker summaries."""

import pytest

from stance.analysis import analyze, quote_context, summarize
from stance.model.classifier import StanceClassifier, StancePrediction
from stance.quotes import extract_quotes

ARTICLE = (
    "Foreign Minister Sergei Lavrov spoke in New York.\n\n"
    "“We will revive the accord,” Lavrov said.\n\n"
    "Iranian President Ebrahim Raeisi said: “We will not bow to pressure.”"
)


def fake_predict(pairs):
    label = lambda t: "favor" if "revive" in t else "against"  # noqa: E731
    texts = [p.reading for p in pairs]
    return [
        StancePrediction(
            label(t),
            0.8,
            {
                "favor": 0.8 if label(t) == "favor" else 0.1,
                "against": 0.1 if label(t) == "favor" else 0.8,
                "none": 0.1,
            },
        )
        for t in texts
    ]


def test_each_quote_gets_one_stance_per_topic_in_order():
    result = analyze(ARTICLE, ["the JCPOA", "sanctions"], predict=fake_predict)
    assert [qa.quote.speaker for qa in result.quotes] == ["Sergei Lavrov", "Ebrahim Raeisi"]
    assert [s.topic for s in result.quotes[0].stances] == ["the JCPOA", "sanctions"]
    assert result.quotes[0].stances[0].label == "favor"
    assert result.quotes[1].stances[0].label == "against"
    summary = {(s.speaker, s.topic): s for s in result.speakers}
    assert summary[("Sergei Lavrov", "the JCPOA")].stance == "favor"
    assert summary[("Ebrahim Raeisi", "sanctions")].quotes == 1


def test_context_is_the_quote_paragraph():
    q = extract_quotes(ARTICLE)[0]
    assert quote_context(ARTICLE, q) == "“We will revive the accord,” Lavrov said."


def test_topics_are_checked():
    with pytest.raises(ValueError, match="topics"):
        analyze(ARTICLE, [], predict=fake_predict)
    with pytest.raises(ValueError, match="topics"):
        analyze(ARTICLE, [" "], predict=fake_predict)


def test_with_a_real_model_and_no_quotes(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    assert analyze("No quotes here.", "the deal", clf).quotes == ()
    result = analyze(ARTICLE, "the deal", clf)
    assert len(result.quotes) == 2 and result.to_dict()["speakers"]


def test_summary_majority_and_means():
    result = analyze(
        ARTICLE + "\n\n“We will revive it soon,” Lavrov added.", "the JCPOA", predict=fake_predict
    )
    lavrov = [s for s in summarize(result.quotes) if s.speaker == "Sergei Lavrov"][0]
    assert lavrov.quotes == 2 and lavrov.stance == "favor"
    assert lavrov.mean_scores["favor"] == pytest.approx(0.8)


def test_model_reads_the_sentence_of_mixed_and_reported_quotes():
    text = (
        "Lavrov spoke in Moscow.\n\n"
        "Lavrov said the sanctions were “a dead end” for everyone.\n\n"
        "Lavrov said the accord could still be saved."
    )
    seen = []

    def recording_predict(pairs):
        seen.extend((p.reading, p.context) for p in pairs)
        return fake_predict(pairs)

    result = analyze(text, "sanctions", predict=recording_predict, kinds=["mixed", "indirect"])
    assert [qa.quote.kind for qa in result.quotes] == ["mixed", "indirect"]
    assert seen[0] == (
        "Lavrov said the sanctions were “a dead end” for everyone.",
        "Lavrov said the sanctions were “a dead end” for everyone.",
    )
    assert seen[1][0] == "Lavrov said the accord could still be saved."
    summary = result.speakers[0]
    assert summary.kinds == {"direct": 0, "mixed": 1, "indirect": 1}


def test_contexts_of_many_quotes_split_the_text_once(monkeypatch):
    import stance.analysis as analysis

    text = "\n\n".join(f"“Point {i} stands,” Lavrov said. More words here." for i in range(30))
    quotes = extract_quotes(text)
    one_by_one = [quote_context(text, q) for q in quotes]
    splits = []
    real = analysis.paragraphs
    monkeypatch.setattr(analysis, "paragraphs", lambda t: splits.append(1) or real(t))
    assert analysis.quote_contexts(text, quotes) == one_by_one
    assert len(quotes) == 30 and len(splits) == 1  # once per article, not once per quote


def test_predict_takes_pairs_and_the_old_call_shape_alike(tiny_model):
    from stance.pairs import StancePair

    clf = StanceClassifier.from_pretrained(tiny_model)
    texts, contexts = ["we back the deal", "we reject it"], ["the deal is the JCPOA", None]
    old = clf.predict(texts, "the deal", contexts=contexts)
    new = clf.predict([StancePair(t, "the deal", c) for t, c in zip(texts, contexts, strict=True)])
    assert old == new
