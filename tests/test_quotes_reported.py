"""Reported speech (kind "indirect") on sentences written for the test; spaCy parses them."""

from pathlib import Path

import pytest

from stance.quotes import extract_quotes

pytest.importorskip("spacy")

ARTICLE = (
    "Norway's finance minister Anke Vogel arrived in Berlin on Monday.\n\n"
    "Vogel said the two countries would sign a new energy pact within a month.\n\n"
    "At a press conference, Vogel criticized the tariffs imposed on Norwegian salmon last year.\n\n"
    "According to the ministry, the talks will resume in June.\n\n"
    "She expressed concern that shipping costs would keep rising.\n\n"
    "“We are close to a deal,” Vogel told reporters."
)


def indirect(text: str):
    return [q for q in extract_quotes(text, kinds="indirect")]


def test_reported_statements_and_their_speakers():
    found = {q.text: q for q in indirect(ARTICLE)}
    pact = found["the two countries would sign a new energy pact within a month"]
    assert pact.speaker == "Anke Vogel" and pact.cue == "said" and pact.rule == "complement_clause"
    tariffs = next(q for t, q in found.items() if t.startswith("the tariffs imposed"))
    assert tariffs.speaker == "Anke Vogel" and tariffs.rule == "object_statement"
    talks = next(q for t, q in found.items() if "talks will resume" in t)
    assert talks.speaker_mention == "the ministry" and talks.rule == "according_to_clause"
    concern = next(q for t, q in found.items() if "shipping costs" in t)
    assert concern.speaker == "Anke Vogel" and concern.rule == "noun_that"


def test_offsets_and_sentences_of_reported_speech():
    for q in indirect(ARTICLE):
        assert ARTICLE[q.start : q.end] == q.text
        assert ARTICLE[q.speaker_start : q.speaker_end] == q.speaker_mention
        assert q.sentence_start <= q.start < q.end <= q.sentence_end
        assert q.kind == "indirect"


def test_direct_quotes_are_not_reported_twice():
    assert indirect("“We are close to a deal,” Vogel told reporters.") == []
    text = "Vogel said the pact was “close to done” on Monday."
    assert indirect(text) == []
    assert [q.kind for q in extract_quotes(text, kinds="direct,mixed,indirect")] == ["mixed"]


def test_saying_and_told_reporters():
    found = indirect(
        "Ola Berg praised the deal, saying the bank expected lower rates next year.\n\n"
        "Rates will fall in spring, Berg told reporters."
    )
    by_rule = {q.rule: q for q in found}
    assert by_rule["participle_clause"].text == "the bank expected lower rates next year"
    assert by_rule["participle_clause"].speaker == "Ola Berg"
    assert any(q.text == "Rates will fall in spring" and q.speaker == "Ola Berg" for q in found)


def test_text_without_cues_has_no_reported_speech():
    assert indirect("The delegation arrived in Moscow on Tuesday for two days of talks.") == []


def test_all_kinds_in_reading_order():
    found = extract_quotes(ARTICLE, kinds=["direct", "mixed", "indirect"])
    assert [q.start for q in found] == sorted(q.start for q in found)
    assert {q.kind for q in found} == {"direct", "indirect"}


SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_8138c3c1e7cbee0d.txt"


@pytest.mark.skipif(not SEED.is_file(), reason="client article not present")
def test_client_article_reported_statements():
    text = SEED.read_text(encoding="utf-8")
    found = indirect(text)
    assert {
        "Kazem Jalali",
        "Hossein Amir-Abdollahian",
        "Ebrahim Raeisi",
        "Sergei Lavrov",
    } <= {q.speaker for q in found}
    lavrov = [q for q in found if q.speaker == "Sergei Lavrov"]
    assert any(q.text.startswith("the unilateral sanctions") for q in lavrov)
    # the tweet and the headline-style first paragraph report nobody
    assert not any(q.paragraph == 0 or "@Iran_GOV" in text[q.sentence_start : q.sentence_end] for q in found)
