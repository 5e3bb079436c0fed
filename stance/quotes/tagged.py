"""The tagger's stage of the pipeline: its role spans grouped into attributions, sources resolved.

The tagger (:mod:`.tagger`) marks Source, Cue and Content spans without saying which belong
together. Here each Content takes the nearest Cue of the sentence(s) it lies in, and the Source
nearest that cue (or the content, when no cue was tagged). :func:`.pipeline.extract_quotes` then
decides, content by content: one that overlaps a quotation the rules kept proposes a source for
it; one with quotation marks the rules dropped adds its quoted parts as ``mixed``; any other is a
reported (``indirect``) statement. Sources go through the same name registry as the rules' mentions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stance.quotes.attribution import Attribution
from stance.quotes.discourse import Speaker, resolved
from stance.quotes.entities import Entities
from stance.quotes.reported import _mention
from stance.quotes.tagger import TaggedSpan
from stance.quotes.text import Tok

RULE = "tagger"
# Under this mean tag probability a content is left out: measured on PolNeAR dev (docs/quotes.md).
MIN_CONTENT_PROB = 0.7


@dataclass(frozen=True)
class TaggedAttribution:
    """One content span with the cue and source the tagger marked next to it."""

    content: TaggedSpan
    cue: TaggedSpan | None
    source: TaggedSpan | None

    @property
    def last(self) -> int:
        """Where the attribution's last part starts (the pipeline handles it once it has read that far)."""
        return max(self.content.start, self.source.start if self.source else 0)


def _gap(a: TaggedSpan, start: int, end: int) -> int:
    return max(a.start - end, start - a.end, 0)


def group_spans(spans: Sequence[TaggedSpan], sentences: Sequence[tuple[int, int]]) -> list[TaggedAttribution]:
    """Content spans with the nearest cue and source inside the sentences they lie in.

    Args:
        spans: the tagger's spans of one text.
        sentences: ``(start, end)`` of each sentence, in reading order.

    Example:
        >>> s = [TaggedSpan("Source", 0, 3, .9), TaggedSpan("Cue", 4, 8, .9)]
        >>> s.append(TaggedSpan("Content", 9, 20, .9))
        >>> group_spans(s, [(0, 21)])[0].source.start
        0
    """
    out = []
    for content in spans:
        if content.role != "Content" or content.prob < MIN_CONTENT_PROB:
            continue
        inside = [(a, b) for a, b in sentences if a < content.end and content.start < b]
        lo, hi = (inside[0][0], inside[-1][1]) if inside else (content.start, content.end)
        near = [s for s in spans if s.role != "Content" and lo <= s.start and s.end <= hi]
        cues = [s for s in near if s.role == "Cue"]
        cue = min(cues, key=lambda s: _gap(s, content.start, content.end), default=None)
        anchor = (cue.start, cue.end) if cue else (content.start, content.end)
        sources = [s for s in near if s.role == "Source"]
        source = min(sources, key=lambda s: _gap(s, *anchor), default=None)
        out.append(TaggedAttribution(content, cue, source))
    return out


def tagged_speaker(att: TaggedAttribution, text: str, tokens: list[Tok], ents: Entities) -> Speaker:
    """The attribution's source as a resolved speaker (fullest name), with the tagger as its rule.

    ``tokens`` are the words of the sentence that holds the source.
    """
    cue = text[att.cue.start : att.cue.end] if att.cue else None
    rule = f"{RULE}:{att.source.prob if att.source else att.content.prob:.2f}"
    mention = _mention(tokens, att.source.start, att.source.end) if att.source else None
    if mention is None:
        return Speaker(None, None, cue, rule)
    return resolved(Attribution(mention, cue, rule), ents)


def rule_name(rule: str | None) -> str | None:
    """``"tagger:0.93"`` -> ``"tagger"``; other rule names unchanged (for per-rule tables)."""
    return rule.split(":", 1)[0] if rule else rule
