"""Transcripts: paragraphs that open with a speaker's label ("WALLACE: …", "“PENCE: …").

News runs interviews and debates as transcripts: each turn is a paragraph that opens with the
speaker's name in capitals and a colon, often inside quotation marks that run over the whole
exchange. The sentence rules cannot read that layout: the label is no cue, and every turn after the
first looks like the previous speaker going on (on PolNeAR dev, the moderator's questions went to
the candidate). PolNeAR annotates each turn as one attribution (Source: the label, Cue: the colon,
Content: the rest of the paragraph), and so does this stage: :func:`transcript_turns` finds the
turns, and :func:`with_turns` puts one direct quote per turn (rule ``transcript``) in place of what
the rules or the tagger read there.

A paragraph counts as a turn only if its label is a name in capitals, no heading ("UPDATE",
"THE FACTS": :data:`stance.lexicon.NOT_SPEAKER_LABELS`, any label opening with "THE") nor an
interview's "Q:" and "A:", and something follows it in lower case; and only in a transcript: an
article with at least :data:`MIN_TURNS` such paragraphs, two speakers or more, and at least one
label that names a person the article names in ordinary case ("PENCE" and Mike Pence). Datelines
("WASHINGTON: …") and roundups ("NORTH CAROLINA: …") name no one and are left to the other rules.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace

from stance.lexicon import NOT_SPEAKER_LABELS, TITLES
from stance.quotes.entities import Entities, Person
from stance.quotes.model import Quote

MIN_TURNS = 2
RULE = "transcript"
# one to four words (letters, dots, apostrophes, hyphens), then a colon and the turn
_WORD = r"[^\W\d_][\w.'’\-]*"  # letters first; capitals are checked on the match
_SPACE = r"[^\S\n]"  # a space on the line, no-break space included
_LABEL = re.compile(rf"[\"“'‘]?{_SPACE}*({_WORD}(?:{_SPACE}+{_WORD}){{0,3}}){_SPACE}*:{_SPACE}+(?=\S)")
_ENDS = " \t\r\n\"“”‘’'«»"


@dataclass(frozen=True)
class Turn:
    """One turn, in offsets of the decoded text: the label and what follows it in the paragraph."""

    label_start: int
    label_end: int
    start: int
    end: int
    label: str
    paragraph: int
    speaker: str = ""  # who the label names (:func:`speaker_names`), set once the turns are known


def transcript_turns(text: str, paras: list[tuple[int, int]], ents: Entities) -> list[Turn]:
    """The transcript turns among ``paras``: none unless at least :data:`MIN_TURNS` of them name two
    speakers or more, one of them a person the article names.

    Args:
        text: the decoded article.
        paras: its paragraphs as (start, end).
        ents: the names the article gives, to tell a speaker's label from a heading or a dateline.
    """
    found = []
    for index, (p_start, p_end) in enumerate(paras):
        match = _LABEL.match(text, p_start, p_end)
        if match is None or not _speaker_label(match.group(1)):
            continue
        start, end = match.end(), p_end
        while end > start and text[end - 1] in _ENDS:  # "“PENCE: …”": marks around the whole turn
            end -= 1
        if end < p_end and text[start] in _ENDS:  # "TRUMP: “…”": marks around its words
            start += 1
        if not any(ch.islower() for ch in text[start:end]):  # a heading in capitals, or nothing
            continue
        label = " ".join(match.group(1).split())
        found.append(Turn(match.start(1), match.end(1), start, end, label, index))
    if len(found) < MIN_TURNS:
        return []
    # "WASHINGTON: …¶LONDON: …" (datelines) and "NORTH CAROLINA: …" (a roundup) name no one
    named = any(_named_person(t.label, ents) for t in found)
    names = speaker_names(found, ents)
    if not named or len(set(names)) < 2:
        return []
    return [replace(turn, speaker=name) for turn, name in zip(found, names, strict=True)]


def _speaker_label(label: str) -> bool:
    """A label in capitals of a name ("PENCE", "JAKE TAPPER"), not a heading ("UPDATE", "THE FACTS")
    nor an interview's "Q" and "A"."""
    words = label.split()
    return (
        label.isupper()
        and sum(ch.isalpha() for ch in words[0]) > 1
        and words[0] != "THE"
        and " ".join(words) not in NOT_SPEAKER_LABELS
    )


def speaker_names(turns: list[Turn], ents: Entities) -> list[str]:
    """Each turn's speaker: the person the article names ('PENCE' -> 'Mike Pence'), else the one
    fuller label that ends with this one, in title case ('TAPPER' after 'JAKE TAPPER' -> 'Jake Tapper'),
    else the label itself ('SMITH' after 'JANE SMITH' and 'JOHN SMITH' stays 'Smith')."""
    labels = {tuple(_words(t.label)) for t in turns}
    names = []
    for turn in turns:
        person = _named_person(turn.label, ents)
        if person is not None:
            names.append(person.name)
            continue
        words = tuple(_words(turn.label))
        fuller = [w for w in labels if len(w) > len(words) and w[-len(words) :] == words]
        names.append(" ".join(fuller[0] if len(fuller) == 1 else words))
    return names


def _words(label: str) -> list[str]:
    words = [w.capitalize() for w in label.split()]
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    return words


def _named_person(label: str, ents: Entities) -> Person | None:
    """The person the article names in ordinary case whom ``label`` names, if any."""
    person = _person(label, ents)
    return person if person is not None and not person.name.isupper() else None


def _person(label: str, ents: Entities) -> Person | None:
    return ents.find(_words(label))


def with_turns(
    quotes: list[Quote],
    turns: list[Turn],
    original: str,
    orig: Callable[[int], int],
    first_group: int,
) -> list[Quote]:
    """``quotes`` with one direct quote per turn in place of those that read the turn itself.

    A quote that starts at the turn (the rules' quotation of a quoted paragraph, label and all),
    covers half of it or more (the tagger's reading of it), or is the turn's own speaker quoted
    inside it ("WALLACE: “Why not?” he asked.") is replaced; a shorter one by someone else, quoted
    within the turn, stays.

    Args:
        orig: maps an offset of the decoded text to the original input (``Document.orig``).
        first_group: the group id of the first turn; each turn is a group of its own.
    """
    if not turns:
        return quotes
    spans = [(orig(t.label_start), orig(t.start), orig(t.end)) for t in turns]  # in reading order
    starts, ends = [start for _, start, _ in spans], [end for _, _, end in spans]
    kept = []
    for q in quotes:
        # the turns it overlaps: bisected, so a long transcript with many quotes stays linear
        lo, hi = bisect_right(ends, q.start), bisect_left(starts, q.end)
        if not any(_reads_turn(q, turns[n].speaker, *spans[n]) for n in range(lo, hi)):
            kept.append(q)
    added = []
    for n, (turn, (label_start, start, end)) in enumerate(zip(turns, spans, strict=True)):
        added.append(
            Quote(
                text=original[start:end],
                start=start,
                end=end,
                speaker=turn.speaker,
                speaker_mention=original[label_start : orig(turn.label_end)],
                speaker_start=label_start,
                speaker_end=orig(turn.label_end),
                cue=":",
                kind="direct",
                paragraph=turn.paragraph,
                group=first_group + n,
                rule=RULE,
                sentence_start=label_start,
                sentence_end=end,
            )
        )
    return sorted([*kept, *added], key=lambda q: q.start)


def _reads_turn(q: Quote, speaker: str, label_start: int, start: int, end: int) -> bool:
    overlap = min(q.end, end) - max(q.start, start)
    if overlap <= 0:
        return False
    return q.start <= start or 2 * overlap >= end - start or q.speaker == speaker
