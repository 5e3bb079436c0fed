"""Quote splitter behaviour, each on a sentence written for the test."""

import time
from pathlib import Path

import pytest

from stance.quotes import Quote, decode_entities, extract_quotes

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_8138c3c1e7cbee0d.txt"


def only(text: str) -> Quote:
    found = extract_quotes(text)
    assert len(found) == 1, found
    return found[0]


def test_offsets_point_at_the_quoted_words():
    text = "Intro.\n\n“We will not sign,” Jalali said."
    q = only(text)
    assert text[q.start : q.end] == q.text == "We will not sign,"
    assert text[q.speaker_start : q.speaker_end] == q.speaker_mention == "Jalali"
    assert q.paragraph == 1 and q.cue == "said" and q.kind == "direct"


@pytest.mark.parametrize(
    "text",
    [
        "“We will not sign the deal,” Jalali said.",
        '"We will not sign the deal," Jalali said.',
        "« We will not sign the deal », Jalali said.",
        "„We will not sign the deal“, Jalali said.",
        "``We will not sign the deal,'' Jalali said.",
        "''We will not sign the deal,'' Jalali said.",
        "‘We will not sign the deal,’ Jalali said.",
    ],
)
def test_quote_mark_styles(text):
    q = only(text)
    assert q.text.strip(" ,") == "We will not sign the deal"
    assert q.speaker == "Jalali"


def test_mixed_marks_and_apostrophes_in_one_document():
    text = (
        "Iran’s officials’ view was plain. “Iran’s position is firm,” Jalali said.\n\n"
        '"We won\'t move," Lavrov said.'
    )
    found = extract_quotes(text)
    assert [q.text for q in found] == ["Iran’s position is firm,", "We won't move,"]
    assert [q.speaker for q in found] == ["Jalali", "Lavrov"]


def test_html_entities_are_decoded_and_offsets_stay_in_the_original():
    text = "&ldquo;We will not sign,&rdquo; Jalali said. He added: &quot;Never.&quot;"
    found = extract_quotes(text)
    assert [q.text for q in found] == ["We will not sign,", "Never."]
    for q in found:
        assert text[q.start : q.end] == q.text
    decoded, offsets = decode_entities("a &amp; b")
    assert decoded == "a & b" and offsets[2] == 2 and offsets[4] == 8


def test_quote_over_paragraphs_has_one_speaker_and_group():
    text = (
        "Kazem Jalali spoke at the embassy.\n\n"
        "“The first part of the statement goes here.\n\n"
        "“The second part continues the thought.\n\n"
        "“And the third part ends it,” Jalali said."
    )
    found = extract_quotes(text)
    assert len(found) == 3
    assert {q.speaker for q in found} == {"Kazem Jalali"}
    assert len({q.group for q in found}) == 1
    assert [q.paragraph for q in found] == [1, 2, 3]


def test_split_quote_gives_two_parts_one_group():
    text = "Kazem Jalali arrived. “The meeting matters,” Jalali said, “because the region needs it.”"
    found = extract_quotes(text)
    assert [q.text for q in found] == ["The meeting matters,", "because the region needs it."]
    assert {q.speaker for q in found} == {"Kazem Jalali"}
    assert found[0].group == found[1].group


def test_fragments_around_the_attribution_share_the_speaker():
    text = (
        "Foreign Minister Sergei Lavrov spoke in New York.\n\n"
        "“It is clear they must do more” in “settling every question tied” to "
        "the treaty, Lavrov said, saying, “Moscow has broken no rule.”"
    )
    found = extract_quotes(text)
    assert len(found) == 3
    assert {q.speaker for q in found} == {"Sergei Lavrov"}


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("“We are ready,” Jalali said.", "Jalali"),
        ("“We are ready,” said Jalali.", "Jalali"),
        ("“We are ready,” said Kazem Jalali, the ambassador.", "Kazem Jalali"),
        ("Lavrov told reporters: “We are ready.”", "Lavrov"),
        ("Lavrov warned the West, saying, “We are ready.”", "Lavrov"),
        ("“We are ready,” according to Lavrov.", "Lavrov"),
    ],
)
def test_speaker_position_and_order(text, mention):
    q = only(text)
    assert q.speaker_mention == mention


def test_pronoun_speaker_resolves_across_paragraphs():
    text = (
        "Iranian President Ebrahim Raeisi spoke with Vladimir Putin's aides on Monday.\n\n"
        "Raeisi described the talks as useful.\n\n"
        "“We are pursuing deeper cooperation,” he said."
    )
    q = only(text)
    assert q.speaker_mention == "he"
    assert q.speaker == "Ebrahim Raeisi"


def test_pronoun_respects_gender():
    text = (
        "Senator Nancy Hill met Mr. John Brook on Monday.\n\n"
        "Brook said little.\n\n“We disagree on everything,” she said."
    )
    assert only(text).speaker == "Nancy Hill"


def test_nominal_speaker_resolves_to_the_titled_person():
    text = (
        "Iran’s Ambassador to Moscow Kazem Jalali met the press.\n\n"
        "“Relations are strong,” the ambassador said."
    )
    q = only(text)
    assert q.speaker == "Kazem Jalali"
    assert q.speaker_mention == "the ambassador"


def test_unresolvable_nominal_keeps_the_mention():
    q = only("“Relations are strong,” a senior official said.")
    assert q.speaker is None
    assert q.speaker_mention == "a senior official"


def test_appositive_between_name_and_cue_and_titles_stripped():
    q = only("Dr. Hugh Hill, a doctor at the clinic, said: “We saw many patients.”")
    assert q.speaker == "Hugh Hill"
    assert q.speaker_mention == "Dr. Hugh Hill"


@pytest.mark.parametrize(
    "cue", ["told", "added", "noted", "warned", "insisted", "wrote", "tweeted", "posted", "replied"]
)
def test_cue_verbs(cue):
    text = f"“We will not back down,” Jalali {cue}."
    q = only(text)
    assert q.cue == cue and q.speaker == "Jalali"


def test_in_a_statement_cue():
    q = only("“We will not back down,” Jalali said in a statement.")
    assert q.speaker == "Jalali"
    q = only("In a statement, Jalali said: “We will not back down.”")
    assert q.speaker == "Jalali"


def test_uncued_quote_in_next_paragraph_belongs_to_previous_speaker():
    text = (
        "“The talks went well,” said Sergei Lavrov.\n\n"
        "“We expect more progress next week.”\n\n"
        "Analysts were less sure."
    )
    found = extract_quotes(text)
    assert [q.speaker for q in found] == ["Sergei Lavrov", "Sergei Lavrov"]


def test_embedded_quote_stays_inside_the_outer_one():
    text = "“He told me, ‘we will not sign,’ and I believed him,” said Anna Kowalczyk."
    q = only(text)
    assert q.text == "He told me, ‘we will not sign,’ and I believed him,"
    assert q.speaker == "Anna Kowalczyk"


@pytest.mark.parametrize(
    "text",
    [
        "Officials warned of the so-called “red line” in the talks.",
        "The paper, “Stance Detection in Context,” was published in May.",
        "He starred in “The Long Goodbye” last year.",
        "Donald “The Donald” Trump arrived late.",
        "The campaign, dubbed “Operation Hope,” ended.",
    ],
)
def test_scare_quotes_titles_and_nicknames_are_not_speech(text):
    assert extract_quotes(text) == []


def test_name_variants_are_one_speaker():
    text = (
        "Foreign Minister Hossein Amir-Abdollahian arrived.\n\n"
        "“We are here,” Amir-Abdollahian said.\n\n"
        "“We will stay,” Mr. Amir-Abdollahian added."
    )
    assert {q.speaker for q in extract_quotes(text)} == {"Hossein Amir-Abdollahian"}


def test_people_sharing_a_surname_stay_apart():
    text = (
        "John Smith and Mary Smith both spoke.\n\n"
        "“Taxes are too high,” John Smith said.\n\n"
        "“Taxes are fine,” Mary Smith said."
    )
    assert [q.speaker for q in extract_quotes(text)] == ["John Smith", "Mary Smith"]


def test_an_opening_said_is_the_cue_and_a_closing_said_a_surname():
    text = (
        "Tax lawyer Ryan Ellis spoke first.\n\n"
        "Said Ellis: “I don’t get the sense she’s interested in tax reform.”\n\n"
        "Edward Said said: “Orientalism is a style of thought.”"
    )
    assert [q.speaker for q in extract_quotes(text)] == ["Ryan Ellis", "Edward Said"]


def test_a_title_with_verbs_is_nobody():
    text = (
        "Connie Mariano wrote a memoir entitled The White House Doctor: My Patients Were Presidents.\n\n"
        "“She had a clot,” she said."
    )
    assert [q.speaker for q in extract_quotes(text)] == ["Connie Mariano"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n  ",
        "“This quote never closes, Jalali said",
        "Unbalanced ” marks “ here ” and “",
        "Truncated mid-quote: “We will",
        "Der Minister sagte: „Wir werden nicht unterschreiben.“",
        "外交部长说：“我们不会签字。”",
        "'''''\"\"\"“““”””‘‘’’«»",
    ],
)
def test_bad_input_never_raises(text):
    result = extract_quotes(text)
    assert isinstance(result, list)
    for q in result:
        assert 0 <= q.start <= q.end <= len(text)


def test_unclosed_quote_is_returned_best_effort():
    found = extract_quotes("Jalali said: “We will never sign this agreement")
    assert found and found[0].text.startswith("We will never sign")


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError):
        extract_quotes(None)  # type: ignore[arg-type]


def test_a_megabyte_article_takes_linear_time():
    paragraph = "“We are ready to talk,” Jalali said. Officials agreed. " * 3 + "\n\n"
    small = paragraph * 200
    big = paragraph * 4000  # about 1 MB
    started = time.perf_counter()
    extract_quotes(small)
    t_small = time.perf_counter() - started
    started = time.perf_counter()
    found = extract_quotes(big)
    t_big = time.perf_counter() - started
    assert len(found) == 12000
    # 20x the text may cost at most about 20x the time (with slack for noise), never quadratic
    assert t_big < 60 * max(t_small, 0.01)


@pytest.mark.skipif(not SEED.is_file(), reason="client article not present")
def test_client_article_attributions():
    text = SEED.read_text(encoding="utf-8")
    by_start = {q.text[:30]: q for q in extract_quotes(text)}

    def speaker_of(prefix: str) -> str | None:
        matches = [q for key, q in by_start.items() if key.startswith(prefix[:30])]
        assert matches, prefix
        return matches[0].speaker

    assert speaker_of("This meeting is considered important") == "Kazem Jalali"
    assert speaker_of("any possible change in regional borders") == "Hossein Amir-Abdollahian"
    assert speaker_of("We are confident that during tomorrow") == "Hossein Amir-Abdollahian"
    assert speaker_of("We are pursuing the development") == "Ebrahim Raeisi"
    assert speaker_of("It seems evident they should be more active") == "Sergei Lavrov"
    assert speaker_of("resolving all issues related") == "Sergei Lavrov"
    assert speaker_of("Iran is not doing anything that would be prohibited") == "Sergei Lavrov"
    mixed = [q for q in extract_quotes(text) if q.text.startswith("any possible change")]
    assert mixed[0].kind == "mixed"
    assert not any("heading a delegation" in q.text for q in extract_quotes(text))


# --------------------------------------------------------------------------- transcripts

DEBATE = (
    "Fox News Sunday host Chris Wallace spoke with Republican vice presidential nominee Gov. Mike "
    "Pence &amp; asked about the debate.\n\n"
    "“WALLACE: Will Gennifer Flowers be there?\n\n"
    "“PENCE: Well, look, she will not be attending.\n\n"
    "“WALLACE: But, Governor, I’ve got to ask you about his language.\n\n"
    "“PENCE: The question really should be why the campaign invited him.”"
)


def test_transcript_turns_are_read_by_their_labels():
    found = extract_quotes(DEBATE)
    assert [(q.speaker, q.speaker_mention, q.rule) for q in found] == [
        ("Chris Wallace", "WALLACE", "transcript"),
        ("Mike Pence", "PENCE", "transcript"),
    ] * 2
    first = found[0]
    # offsets in the input, before the decoded "&amp;"
    assert DEBATE[first.start : first.end] == first.text == "Will Gennifer Flowers be there?"
    assert DEBATE[first.speaker_start : first.speaker_end] == "WALLACE"
    assert found[-1].text == "The question really should be why the campaign invited him."
    assert all(q.kind == "direct" and q.cue == ":" for q in found)
    assert len({q.group for q in found}) == 4


def test_transcript_without_marks_names_the_fullest_label():
    text = (
        "Gov. Mary Fallin spoke on Sunday.\n\nJAKE TAPPER: Do you back him?\n\nFALLIN: I think he is "
        "trying.\n\nTAPPER: Is he a healer?\n\nFALLIN: “He wants to be one.”"
    )
    found = extract_quotes(text)
    assert [q.speaker for q in found] == ["Jake Tapper", "Mary Fallin", "Jake Tapper", "Mary Fallin"]
    assert found[2].speaker_mention == "TAPPER" and found[2].text == "Is he a healer?"
    # marks around a turn's words go, both or neither
    assert found[3].text == "He wants to be one."


def test_speakers_sharing_a_surname_keep_their_own_labels():
    text = "Jane Smith met Bob Reyes.\n\nJOHN SMITH: Yes.\n\nJANE SMITH: No.\n\nREYES: Maybe."
    assert [q.speaker for q in extract_quotes(text)] == ["John Smith", "Jane Smith", "Bob Reyes"]


def test_the_turns_own_speaker_quoted_inside_it_is_the_turn():
    text = "Mike Pence met Chris Wallace.\n\nWALLACE: “Why not?” he asked.\n\nPENCE: Because."
    found = extract_quotes(text)
    assert [(q.speaker, q.rule) for q in found] == [
        ("Chris Wallace", "transcript"),
        ("Mike Pence", "transcript"),
    ]
    assert found[0].text == "“Why not?” he asked."


@pytest.mark.parametrize(
    "text",
    [
        # headings, each once
        "UPDATE: The site removed the listing.\n\nSTAT OF THE WEEK: $43 million went to subsidies.",
        "STAT OF THE WEEK: $43 million went to subsidies.\n\nTOP TALKER: The mayor's budget, again.",
        # an interview's Q and A name nobody
        "Q: Are you surprised?\n\nA: I am surprised.\n\nQ: Why?\n\nA: Look at the last cycle.",
        # one labelled paragraph is no transcript
        "Intro.\n\nPENCE: She will not be attending.",
        # datelines and a state roundup name no one the article names
        "Intro.\n\nWASHINGTON: The Senate passed the bill.\n\nLONDON: The pound fell.\n\n"
        "WASHINGTON: The House adjourned.",
        "Polls.\n\nNORTH CAROLINA: Trump leads by two.\n\nSOUTH CAROLINA: Clinton trails by ten.",
        # a fact check: one speaker, and "THE FACTS" is a heading
        "Donald Trump spoke.\n\nTRUMP: “We have the best economy.”\n\nTHE FACTS: Not true, data show."
        "\n\nTRUMP: “Crime is up.”\n\nTHE FACTS: It is down.",
    ],
)
def test_labels_that_are_no_transcript(text):
    assert not [q for q in extract_quotes(text, "direct,mixed,indirect") if q.rule == "transcript"]
