"""Transcripts: paragraphs that open with a speaker's label ("WALLACE: …", "“PENCE: …").

News runs interviews and debates as transcripts: each turn is a paragraph that opens with the
speaker's name in capitals and a colon, often inside quotation marks that run over the whole
exchange. The sentence rules cannot read that layout: the label is no cue, and every turn after the
first looks like the previous speaker going on (on PolNeAR dev, the moderator's questions went to
the candidate). PolNeAR annotates each turn as one attribution (Source: the label, Cue: the colon,
Content: the rest of the paragraph), and so does this stage: :func:`transcript_turns` finds the
turns, and :func:`with_turns` puts one direct quote per turn (rule ``transcript``) in place of what
the rules or the tagger read there.

A paragraph counts as a turn only if its label is no heading (:data:`stance.lexicon.NOT_SPEAKER_LABELS`)
and something follows it in lower case, and only in a transcript: an article with at least
:data:`MIN_TURNS` such paragraphs where one speaker labels two turns or more ("JAKE TAPPER", then
"TAPPER") or two labels name people the article names ("PENCE" and Mike Pence). A newsletter's
"UPDATE: …" or "STAT OF THE WEEK: …" is left to the other rules, and so is an interview's "Q:" and
"A:", whose turns name nobody.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from stance.lexicon import NOT_SPEAKER_LABELS, TITLES
from stance.quotes.entities import Entities, Person
from stance.quotes.model import Quote

MIN_TURNS = 2
RULE = "transcript"
# one to four words in capitals (letters, dots, apostrophes, hyphens), then a colon and the turn; a
# lone letter is an interview's "Q:" or "A:", whose turns name nobody
_WORD = r"[A-Z][A-Z.'’\-]"
_SPACE = r"[^\S\n]"  # a space on the line, no-break space included
_LABEL = re.compile(rf"[\"“'‘]?{_SPACE}*({_WORD}+(?:{_SPACE}+{_WORD}*){{0,3}}){_SPACE}*:{_SPACE}+(?=\S)")
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


def transcript_turns(text: str, paras: list[tuple[int, int]], ents: Entities) -> list[Turn]:
    """The transcript turns among ``paras`` (none unless the article has at least :data:`MIN_TURNS`).

    Args:
        text: the decoded article.
        paras: its paragraphs as (start, end).
        ents: the names the article gives, to tell a speaker's label from a heading.
    """
    found = []
    for index, (p_start, p_end) in enumerate(paras):
        match = _LABEL.match(text, p_start, p_end)
        if match is None or match.group(1).upper() in NOT_SPEAKER_LABELS:
            continue
        start, end = match.end(), p_end
        while end > start and text[end - 1] in _ENDS:
            end -= 1
        if not any(ch.islower() for ch in text[start:end]):  # a heading in capitals, or nothing
            continue
        label = " ".join(match.group(1).split())
        found.append(Turn(match.start(1), match.end(1), start, end, label, index))
    if len(found) < MIN_TURNS:
        return []
    counts = Counter(_surname(t.label) for t in found)  # "JAKE TAPPER", then "TAPPER"
    named = {t.label for t in found if _person(t.label, ents) is not None}
    return found if max(counts.values()) > 1 or len(named) > 1 else []


def speaker_names(turns: list[Turn], ents: Entities) -> list[str]:
    """Each turn's speaker: the person the article names ('PENCE' -> 'Mike Pence'), else the
    fullest label with the same last word, in title case ('TAPPER' after 'JAKE TAPPER' -> 'Jake Tapper')."""
    fullest: dict[str, list[str]] = {}
    for turn in turns:
        words = _words(turn.label)
        if len(words) > len(fullest.get(words[-1], [])):
            fullest[words[-1]] = words
    names = []
    for turn in turns:
        person = _person(turn.label, ents)
        if person is not None and not person.name.isupper():  # not the label itself, read as a name
            names.append(person.name)
        else:
            names.append(" ".join(fullest[_words(turn.label)[-1]]))
    return names


def _surname(label: str) -> str:
    return _words(label)[-1]


def _words(label: str) -> list[str]:
    words = [w.capitalize() for w in label.split()]
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    return words


def _person(label: str, ents: Entities) -> Person | None:
    return ents.find(_words(label))


def with_turns(
    quotes: list[Quote],
    turns: list[Turn],
    ents: Entities,
    original: str,
    orig: Callable[[int], int],
    first_group: int,
) -> list[Quote]:
    """``quotes`` with one direct quote per turn in place of those that read the turn itself.

    A quote that starts at the turn (the rules' quotation of a quoted paragraph, label and all) or
    covers half of it or more (the tagger's reading of it) is replaced; a shorter one inside it,
    someone quoted within the turn, stays.

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
        near = spans[bisect_right(ends, q.start) : bisect_left(starts, q.end)]
        if not any(_reads_turn(q, *span) for span in near):
            kept.append(q)
    added = []
    names = speaker_names(turns, ents)
    for n, (turn, name, (label_start, start, end)) in enumerate(zip(turns, names, spans, strict=True)):
        added.append(
            Quote(
                text=original[start:end],
                start=start,
                end=end,
                speaker=name,
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


def _reads_turn(q: Quote, label_start: int, start: int, end: int) -> bool:
    overlap = min(q.end, end) - max(q.start, start)
    if overlap <= 0:
        return False
    return q.start <= start or 2 * overlap >= end - start
