"""Named attribution rules and the speaker error classes of issue 8, each on sentences written
for the test (never article text)."""

import pytest

from stance.quotes import KINDS, Quote, extract_quotes, normalize_kinds
from stance.quotes.marks import MARKS


def only(text: str) -> Quote:
    found = extract_quotes(text)
    assert len(found) == 1, found
    return found[0]


def speakers(text: str) -> list[str | None]:
    return [q.speaker for q in extract_quotes(text)]


# ------------------------------------------------------------------ rules, fields, kinds


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("“The bridge will open in May,” Lena Ortiz said.", "x_said"),
        ("“The bridge will open in May,” said Lena Ortiz.", "said_x"),
        ("“The bridge will open in May,” according to Lena Ortiz.", "according_to"),
        ("“The bridge will open in May.” — Lena Ortiz", "dash_byline"),
        ("Lena Ortiz thanked the crews, saying “the bridge will open in May.”", "saying"),
        ("“The bridge will open in May,” the mayor said.", "role_noun"),
        ("Ortiz: “The bridge will open in May.”", "colon_name"),
        ("“The bridge will open in May,” Lena Ortiz said in a statement Monday.", "x_said"),
    ],
)
def test_each_quote_names_the_rule_that_attributed_it(text, rule):
    assert only(text).rule == rule


def test_uncued_follow_up_is_previous_speaker():
    text = "“The bridge will open in May,” said Lena Ortiz.\n\n“The tunnel will take longer.”"
    assert [q.rule for q in extract_quotes(text)] == ["said_x", "previous_speaker"]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Lena Ortiz said this:\n\n“The bridge will open in May.”", "colon_intro"),
        ("Work went on, Lena Ortiz said. “The bridge will open in May.”", "previous_attribution"),
        ("Lena Ortiz was blunt. “The bridge will open in May.”", "previous_subject"),
    ],
)
def test_cross_sentence_rules_name_themselves(text, rule):
    q = only(text)
    assert q.rule == rule and q.speaker == "Lena Ortiz"


def test_rule_names_are_the_registries_keys_and_a_rule_can_be_left_out(monkeypatch):
    from stance.quotes import attribution, discourse, reported

    registries = [
        attribution.WINDOW_RULES, attribution.CUE_RULES, attribution.TRAILING_RULES,
        attribution.SENTENCE_RULES, discourse.NAMING_RULES, discourse.CARRYING_RULES, reported.RULES,
    ]  # fmt: skip
    names = [rule.__name__ for rules in registries for rule in rules] + [discourse.QUOTE_CHAIN]
    assert len(names) == len(set(names)), "a rule name used twice cannot be scored apart"
    text = "Lena Ortiz was blunt. “The bridge will open in May.”"
    monkeypatch.setattr(discourse, "NAMING_RULES", [discourse.colon_intro, discourse.previous_attribution])
    assert only(text).speaker is None


def test_quote_without_a_speaker_has_no_rule():
    q = only("Officials were silent.\n\n“Nobody knows what happens next.”")
    assert q.speaker is None and q.rule is None


def test_sentence_offsets_cover_the_quote_and_its_sentence():
    text = (
        "The council met. Lena Ortiz said the plan was “a fair deal for everyone” on Monday. Then it rained."
    )
    q = only(text)
    assert q.kind == "mixed"
    assert text[q.sentence_start : q.sentence_end].strip() == (
        "Lena Ortiz said the plan was “a fair deal for everyone” on Monday."
    )
    assert q.sentence_start <= q.start < q.end <= q.sentence_end


def test_kinds_are_checked_and_normalised():
    assert normalize_kinds("indirect,direct") == ("direct", "indirect")
    assert normalize_kinds(None) == ("direct", "mixed")
    assert set(KINDS) == {"direct", "mixed", "indirect"}
    with pytest.raises(ValueError, match="unknown quote kind"):
        extract_quotes("x", kinds=["quoted"])


def test_kinds_filter_direct_from_mixed():
    text = "Lena Ortiz said the plan was “a fair deal” for all. “We start Monday,” she added."
    assert [q.kind for q in extract_quotes(text, kinds="mixed")] == ["mixed"]
    assert [q.kind for q in extract_quotes(text, kinds=["direct"])] == ["direct"]


def test_mark_table_pairs_every_family():
    assert {m.family for m in MARKS.values()} == {"curly", "tex", "straight", "single"}


# ---------------------------------------------------------------------- speaker errors


def test_role_noun_points_back_two_paragraphs():
    text = (
        "Norway's finance minister, Anke Vogel, presented the budget on Tuesday.\n\n"
        "The plan cuts fuel taxes and raises spending on rail.\n\n"
        "“This budget keeps the country moving,” the minister said."
    )
    assert only_speaker(text) == "Anke Vogel"


def test_lower_case_title_before_the_name():
    text = (
        "Norway's finance minister Anke Vogel presented the budget.\n\n"
        "Rail unions welcomed it.\n\n"
        "“This budget keeps the country moving,” the minister said."
    )
    assert only_speaker(text) == "Anke Vogel"


def test_profession_noun_for_the_person_of_the_previous_paragraph():
    text = (
        "Ola Berg, an economist at Nordbank, has studied housing prices for a decade.\n\n"
        "“Prices will fall before they rise,” the economist said."
    )
    assert only_speaker(text) == "Ola Berg"


def test_said_in_a_statement_colon():
    q = only("Ola Berg said in a statement: “Prices will fall before they rise.”")
    assert q.speaker == "Ola Berg"


def test_asked_about_replied():
    q = only("Ola Berg, asked about the housing market, replied: “Prices will fall before they rise.”")
    assert q.speaker == "Ola Berg"


def test_nominal_with_an_appositive_name():
    q = only("“Prices will fall before they rise,” the bank's chief economist, Ola Berg, said.")
    assert q.speaker == "Ola Berg"


def test_uncued_quote_after_a_sentence_about_the_speaker():
    text = "Ola Berg spoke after the vote.\n\nHe was blunter than usual. “Prices will fall before they rise.”"
    assert only_speaker(text) == "Ola Berg"


def test_several_reporting_verbs_in_one_sentence():
    q = only("Berg, who had warned in May that rates would climb, said: “Prices will fall.”")
    assert q.speaker == "Berg"


def test_document_as_source():
    q = only("“We regret the delay,” the letter reads.")
    assert q.speaker_mention == "the letter"


def test_colon_with_no_verb():
    q = only("Ola Berg, chief economist: “Prices will fall before they rise.”")
    assert q.speaker == "Ola Berg"


def test_subhead_with_a_surname_and_colon():
    text = "Ola Berg runs the research desk.\n\nBerg: “Prices will fall before they rise.”"
    assert only_speaker(text) == "Ola Berg"


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("“Roads will close at noon,” police said.", "police"),
        ("“Roads will close at noon,” the ministry said.", "the ministry"),
    ],
)
def test_plural_and_institutional_speakers(text, mention):
    assert only(text).speaker_mention == mention


def test_first_name_alone_points_back_to_the_full_name():
    text = "Ola Berg runs the desk.\n\n“Prices will fall,” Ola said."
    assert only_speaker(text) == "Ola Berg"


def test_pronoun_resolves_to_a_person_not_a_shop_festival_or_country():
    text = (
        "Marta Lind opened the Blue Harbour Festival in Norway on Friday.\n\n"
        "“It was the best opening yet,” she said."
    )
    assert only_speaker(text) == "Marta Lind"


def test_text_starting_mid_quote_does_not_open_a_quote_on_its_closing_mark():
    text = "before the vote,” Berg said. Later she met Anke Vogel. “Rates will hold,” Vogel said."
    found = extract_quotes(text)
    assert [q.text for q in found] == ["Rates will hold,"]


def test_hard_wrapped_lines_inside_a_paragraph():
    text = "Intro line.\n\n“Prices will fall\nbefore they rise,” said\nOla Berg.\n\nNext paragraph."
    q = only(text)
    assert q.text == "Prices will fall\nbefore they rise,"
    assert q.speaker == "Ola Berg"


def test_whole_sentence_after_said_with_no_comma_is_direct():
    q = only("Ola Berg said “Prices will fall before they rise.”")
    assert q.kind == "direct"


def test_same_family_nested_marks_keep_the_outer_quote():
    q = only("“I asked him “how are you” and he left,” Ola Berg said.")
    assert q.text == "I asked him “how are you” and he left,"


def test_unicode_names_and_particles_stay_whole():
    text = (
        "Recep Tayyip Erdoğan met Ursula von der Leyen and Nadia al-Rashid.\n\n"
        "“We agree,” Erdoğan said.\n\n“So do we,” von der Leyen said.\n\n“Me too,” al-Rashid said."
    )
    assert speakers(text) == ["Recep Tayyip Erdoğan", "Ursula von der Leyen", "Nadia al-Rashid"]


def test_da_silva_keeps_the_particle():
    text = "Maria da Silva spoke first.\n\n“The port reopens today,” da Silva said."
    assert only_speaker(text) == "Maria da Silva"


# ------------------------------------------------------------------ offsets and symbols


@pytest.mark.parametrize("space", ["  ", "\u00a0"])
def test_speaker_mention_slices_back_with_odd_spaces(space):
    text = f"“Prices will fall,” said Ola{space}Berg."
    q = only(text)
    assert text[q.speaker_start : q.speaker_end] == q.speaker_mention == f"Ola{space}Berg"


def test_a_real_section_sign_is_not_a_quote():
    found = extract_quotes("Under § 12 of the code, Berg said: “The rule stands.” See § 14.")
    assert [q.text for q in found] == ["The rule stands."]
    assert found[0].speaker == "Berg"


def only_speaker(text: str) -> str | None:
    return only(text).speaker


# ------------------------------------------------- clause subjects: phrases that go on to their head


@pytest.mark.parametrize(
    ("text", "speaker", "mention"),
    [
        # a name set off by an appositive opens the clause
        (
            "Lena Ortiz spoke first.\n\nOrtiz, a former city engineer and candidate, praised the crews, "
            "saying “the bridge will open in May.”",
            "Lena Ortiz",
            "Ortiz",
        ),
        (
            "Mayor Tom Reyes (D), Ortiz's opponent in the race, replied on Friday, saying “it will not.”",
            "Tom Reyes",
            "Mayor Tom Reyes",
        ),
        # titles before the name, and a possessive before the speaker's role
        (
            "Democratic presidential nominee Lena Ortiz chimed in, saying “the bridge will open in May.”",
            "Lena Ortiz",
            "Democratic presidential nominee Lena Ortiz",
        ),
        (
            "Lena Ortiz’s campaign manager Tom Reyes said as much, arguing the bridge “will open in May.”",
            "Tom Reyes",
            "Lena Ortiz’s campaign manager Tom Reyes",
        ),
        # a contracted pronoun is the pronoun
        ("Lena Ortiz spoke.\n\nShe’s claiming that the bridge “will open in May.”", "Lena Ortiz", "She"),
    ],
)
def test_clause_subject_reads_the_whole_phrase(text, speaker, mention):
    quote = extract_quotes(text)[-1]
    assert (quote.speaker, quote.speaker_mention) == (speaker, mention)
    assert text[quote.speaker_start : quote.speaker_end] == mention


@pytest.mark.parametrize(
    "text",
    [
        "The New York businessman spoke, saying “the bridge will open in May.”",
        "“The bridge will open in May,” the New York businessman said.",
    ],
)
def test_a_place_in_the_phrase_is_not_the_speaker(text):
    assert only(text).speaker not in {"Lena Ortiz", "York", "New York"}


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # a pronoun after the comma is no appositive
        ("Ortiz, he said, is a risk, saying “she is unfit.”", None),
        # the possessor of a thing is the subject; the phrase does not run on past "to"
        ("Tom Reyes's response to Lena Ortiz was blunt, saying “she is wrong.”", "Tom Reyes"),
        # the possessor of a person is not: "Ortiz's relatives" spoke
        ("Lena Ortiz's relatives, including her husband, spoke, saying “we have questions.”", None),
    ],
)
def test_clause_subject_stops_at_the_phrase(text, speaker):
    assert only(text).speaker == speaker


def test_a_possessor_of_a_statement_is_its_speaker():
    text = "Lena Ortiz's statement came on Monday, saying “the bridge will open in May.”"
    assert only(text).speaker == "Lena Ortiz"


def test_a_name_after_the_role_is_still_the_speaker():
    text = "After the vote, the Democratic candidate Lena Ortiz boldly suggested the bridge was “a disaster.”"
    assert only(text).speaker == "Lena Ortiz"
