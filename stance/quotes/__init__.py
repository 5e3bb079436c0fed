"""Find quotations and reported speech in a news article and attribute each to its speaker.

Rules, not a model, in stages (one module each): quote marks are paired in one linear pass per
paragraph (:mod:`.marks`), each quote's sentence is searched for a reporting cue (:mod:`.cues`)
and the mention next to it (:mod:`.mentions`) by an ordered list of named rules
(:mod:`.attribution`, :mod:`.discourse`), and mentions are resolved to the fullest name the
article gives (:mod:`.entities`). Reported speech without marks (:mod:`.reported`) is found in
sentences that hold a cue. No exception on any input, and linear time in its length.

Example:
    >>> quotes = extract_quotes('“We will not sign,” Jalali said.')
    >>> quotes[0].text, quotes[0].speaker, quotes[0].cue, quotes[0].rule
    ('We will not sign,', 'Jalali', 'said', 'x_said')
"""

from stance.quotes.cues import KINDS, Kind
from stance.quotes.model import Quote
from stance.quotes.pipeline import extract_quotes, normalize_kinds
from stance.quotes.text import decode_entities, paragraphs

__all__ = ["KINDS", "Kind", "Quote", "decode_entities", "extract_quotes", "normalize_kinds", "paragraphs"]
