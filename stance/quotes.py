"""Find direct quotations in a news article and attribute each to its speaker.

Rules, not a model: quote marks are paired in one linear pass per paragraph, each quote's
sentence is searched for a reporting cue ("said", "told", "according to") and the mention next to
it, and mentions are resolved to the fullest name the article gives. No exception on any input.

Example:
    >>> quotes = extract_quotes('“We will not sign,” Jalali said.')
    >>> quotes[0].text, quotes[0].speaker, quotes[0].cue
    ('We will not sign,', 'Jalali', 'said')
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field, replace

from stance.lexicon import (
    CUE_VERBS,
    DETERMINERS,
    FEMALE_FIRST,
    FUNCTION_WORDS,
    GENDER_TITLES,
    NON_NAME_WORDS,
    NOUN_LIKE_CUES,
    ORG_WORDS,
    PARTICIPLE_CUES,
    PRONOUNS,
    ROLE_NOUNS,
    TITLES,
)

__all__ = ["Quote", "extract_quotes"]


@dataclass(frozen=True)
class Quote:
    """One quoted span and who said it.

    Attributes:
        text: the quoted words without the outer marks.
        start, end: offsets of ``text`` in the input.
        speaker: the canonical speaker (fullest name in the article), or None.
        speaker_mention: the words that attribute the quote ("he", "the minister", "Jalali").
        speaker_start, speaker_end: offsets of that mention in the input.
        cue: the reporting word ("said", "told", "according to").
        kind: "direct" (stands as speech) or "mixed" (a fragment inside reported speech).
        paragraph: 0-based paragraph index.
        group: quotes split by their attribution, or run over paragraphs, share a group id.
    """

    text: str
    start: int
    end: int
    speaker: str | None
    speaker_mention: str | None
    speaker_start: int | None
    speaker_end: int | None
    cue: str | None
    kind: str
    paragraph: int
    group: int

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Text normalisation with an offset map
# --------------------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_entities(text: str) -> tuple[str, list[int] | None]:
    """Decode HTML entities; return the decoded text and, if it changed, an offset map.

    ``offsets[i]`` is the index in ``text`` of decoded character ``i`` (one extra entry for the end).
    """
    if "&" not in text:
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    last = 0
    for m in _ENTITY.finditer(text):
        decoded = html.unescape(m.group())
        if decoded == m.group():
            continue
        out.append(text[last : m.start()])
        offsets.extend(range(last, m.start()))
        out.append(decoded)
        offsets.extend([m.start()] * len(decoded))
        last = m.end()
    if not offsets and last == 0:
        return text, None
    out.append(text[last:])
    offsets.extend(range(last, len(text) + 1))
    return "".join(out), offsets


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: every line break ends one (news copy has one per line)."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        line = m.group()
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((m.start() + lead, m.start() + len(line.rstrip())))
    return spans


# --------------------------------------------------------------------------------------------
# Quote-mark pairing
# --------------------------------------------------------------------------------------------

_MARK = re.compile(r"``|''|[\"“”„«»‘’‚'‹›]")
_DOUBLE_OPEN = {"“", "„", "«", "``"}
_DOUBLE_CLOSE = {"”", "»"}
_TAG = re.compile(r"<[^<>\n]{1,500}>")
_SINGLE = {"‘", "’", "‚", "'", "‹", "›"}


@dataclass
class _Span:
    start: int
    end: int
    paragraph: int
    open_mark: int
    close_mark: int | None
    continues: bool = False
    continued: bool = False
    closed: bool = True


def _is_word(ch: str) -> bool:
    return ch.isalnum()


def _double_role(text: str, pos: int, mark: str, is_open: bool) -> str:
    if mark in _DOUBLE_OPEN:
        if mark == "“" and is_open:
            before = text[pos - 1] if pos else " "
            after = text[pos + 1] if pos + 1 < len(text) else " "
            # German „…“ closes with “; a “ glued to the word before it also closes.
            if not before.isspace() and (after.isspace() or after in ".,;:!?)"):
                return "close"
        return "open"
    if mark in _DOUBLE_CLOSE:
        before = text[pos - 1] if pos else " "
        after = text[pos + len(mark)] if pos + len(mark) < len(text) else " "
        if not is_open and (before.isspace() or before in "([—–") and _is_word(after):
            return "open"  # a ” typed as an opener
        return "close"
    # straight double quote (or NYT-style ''): direction from its neighbours, else by parity
    before = text[pos - 1] if pos else " "
    after = text[pos + len(mark)] if pos + len(mark) < len(text) else " "
    if is_open:
        # a straight mark glued to the next word after a space starts a new quote
        if before.isspace() and _is_word(after):
            return "open"
        return "close"
    return "open"


def find_quote_spans(text: str, paras: list[tuple[int, int]]) -> list[_Span]:
    """Pair quote marks paragraph by paragraph in one pass; inner quotes stay inside outer ones.

    A paragraph that ends inside a quote and is followed by one that opens a quote continues it
    (news style for quotes over several paragraphs). An unclosed quote runs to its paragraph end.
    """
    spans: list[_Span] = []
    carry = False
    # quote marks inside markup (<tweet id="…">) are not quotations
    tags = [(m.start(), m.end()) for m in _TAG.finditer(text)] if "<" in text else []
    tag_i = 0
    for p_index, (p_start, p_end) in enumerate(paras):
        open_at: int | None = None
        open_mark = -1
        single_at: int | None = None
        single_mark = -1
        reopened = False
        inner: str | None = None
        open_family = ""
        for m in _MARK.finditer(text, p_start, p_end):
            mark, pos = m.group(), m.start()
            while tag_i < len(tags) and tags[tag_i][1] <= pos:
                tag_i += 1
            if tag_i < len(tags) and tags[tag_i][0] <= pos:
                continue
            before = text[pos - 1] if pos > p_start else " "
            after = text[m.end()] if m.end() < p_end else " "
            if mark in _SINGLE:
                if open_at is not None:
                    continue  # nested quote: part of the outer quotation
                if mark in "‘‚‹" or (mark == "'" and single_at is None):
                    if not _is_word(before) and _is_word(after) and single_at is None:
                        if mark == "'" and (after.isdigit() or before in "sS"):
                            continue
                        single_at, single_mark = m.end(), pos
                        continue
                if (
                    mark in "’'›"
                    and single_at is not None
                    and not before.isspace()
                    and not _is_word(after)
                    and after != "’"
                ):
                    if text[single_at:pos].strip() and not re.search(r"[“”\"]", text[single_at:pos]):
                        spans.append(_Span(single_at, pos, p_index, single_mark, pos))
                    single_at = None
                continue
            if mark == '"' and before.isdigit() and open_at is None:
                continue  # inches: 6'3" tall
            family = "straight" if mark == '"' else "tex" if mark in {"``", "''"} else "curly"
            if inner is not None:
                # inside a quote nested with the other family of marks ("… “inner” …")
                if family == inner and _double_role(text, pos, mark, True) == "close":
                    inner = None
                continue
            if (
                open_at is not None
                and family != open_family
                and _double_role(text, pos, mark, False) == "open"
                and (mark in _DOUBLE_OPEN or mark in {'"', "''"})
            ):
                inner = family
                continue
            role = _double_role(text, pos, mark, open_at is not None)
            if role == "open":
                if open_at is not None and mark == "“" and open_mark >= 0 and text[open_mark] == "„":
                    role = "close"
                else:
                    open_at, open_mark, open_family = m.end(), pos, family
                    single_at = None
                    if not reopened and carry and not text[p_start:pos].strip():
                        reopened = True
                    continue
            if open_at is not None:
                if text[open_at:pos].strip():
                    span = _Span(open_at, pos, p_index, open_mark, pos)
                    if (
                        reopened
                        and carry
                        and spans
                        and spans[-1].continues
                        and not text[p_start:open_mark].strip()
                    ):
                        span.continued = True
                    spans.append(span)
                open_at = None
        carry = False
        if open_at is not None and text[open_at:p_end].strip():
            next_start = paras[p_index + 1][0] if p_index + 1 < len(paras) else None
            runs_on = next_start is not None and text[next_start] in "“\"«„'‘`"
            span = _Span(open_at, p_end, p_index, open_mark, None, continues=runs_on, closed=False)
            if reopened and spans and spans[-1].continues and not text[p_start:open_mark].strip():
                span.continued = True
            spans.append(span)
            carry = runs_on
    return spans


# --------------------------------------------------------------------------------------------
# Tokens, sentences and mentions
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|St|Lt|Col|Rev|Jr|Sr|Prof|Capt|Sgt|Adm|Hon"
    r"|Mt|Ft)\.(?=\s)|[A-Z]\.(?=\s+[A-Z])|\w+(?:[-'’]\w+)*(?:['’]s?)?|\S"
)


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().rstrip(".")

    @property
    def cap(self) -> bool:
        return self.text[:1].isupper()


def _tokens(text: str, start: int, end: int) -> list[_Tok]:
    return [_Tok(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]


_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|St|Lt|Col|Rev|Jr|Sr|Prof|Capt|Sgt|Adm|Hon|Mt|Ft|No|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Corp|Co|vs|etc|U\.S|U\.N|U\.K|D\.C|"
    r"[A-Z])\.)$"
)


def _sentence_bounds(text: str, p_start: int, p_end: int, masked: str) -> list[tuple[int, int]]:
    """Sentences of a paragraph; ``masked`` hides quoted text so inner full stops don't split."""
    bounds = []
    start = p_start
    for m in re.finditer(r"[.!?]+[)\]§]*\s+(?=[A-Z“\"‘(§])", masked[p_start:p_end]):
        cut = p_start + m.end()
        stop = p_start + m.start() + 1
        if _ABBREV.search(text[max(p_start, stop - 6) : stop]):
            continue
        bounds.append((start, cut))
        start = cut
    bounds.append((start, p_end))
    return bounds


@dataclass
class _Mention:
    text: str
    start: int
    end: int
    kind: str  # "name", "pronoun", "nominal"


def _name_core(tokens: list[_Tok]) -> list[_Tok]:
    """The name after the last title word: 'Iran's Ambassador to Moscow Kazem Jalali' -> 'Kazem Jalali'."""
    cut = 0
    for i, tok in enumerate(tokens[:-1]):
        if tok.lower in TITLES or tok.lower in DETERMINERS or not tok.cap or tok.text.endswith(("'s", "’s")):
            cut = i + 1
    core = tokens[cut:]
    # a place inside the title ("to Moscow", "of State") sits between the title and the name
    if len(core) >= 3 and cut > 0 and tokens[cut - 1].lower in {"to", "of", "for", "at"}:
        core = core[1:]
    return core


def _is_name_token(tok: _Tok) -> bool:
    return (tok.cap and tok.text not in NON_NAME_WORDS) or tok.text in {
        "de",
        "van",
        "von",
        "bin",
        "al",
        "da",
        "del",
        "la",
    }


def _mention_before(tokens: list[_Tok], i: int) -> _Mention | None:
    """The mention that ends just before token ``i`` (the subject of a cue at ``i``)."""
    j = i - 1
    while j >= 0 and tokens[j].lower in {
        "also",
        "later",
        "then",
        "has",
        "had",
        "have",
        "once",
        "would",
        "will",
        "previously",
        "recently",
        "again",
        "reportedly",
        "publicly",
        "repeatedly",
        "often",
        "simply",
        "just",
        "further",
        "earlier",
        "privately",
        "famously",
        "angrily",
        "flatly",
        "quickly",
        "told",
        "bluntly",
        "frankly",
        "is",
        "was",
        "did",
        "does",
    }:
        if tokens[j].lower == "told" and j != i - 1:
            break
        j -= 1
    if j < 0:
        return None
    if tokens[j].text == "," and j >= 1 and tokens[j - 1].text == ")":
        j -= 1
    if tokens[j].text == ")":
        k = j - 1
        while k >= 0 and j - k < 12 and tokens[k].text != "(":
            k -= 1
        return _mention_ending_at(tokens, k - 1) if k >= 1 else None
    if tokens[j].text == ",":
        # appositive: "Hugh Hill, a doctor at the clinic, said"
        k = j - 1
        depth = 0
        while k >= 0 and depth < 45 and tokens[k].text not in {",", "“", "”", '"', ";", ":", "§"}:
            k -= 1
            depth += 1
        if k >= 1 and tokens[k].text == ",":
            inner = _mention_ending_at(tokens, k - 1)
            if inner is not None:
                return inner
        return None
    return _mention_ending_at(tokens, j)


def _mention_ending_at(tokens: list[_Tok], j: int) -> _Mention | None:
    tok = tokens[j]
    if tok.lower in PRONOUNS:
        return _Mention(tok.text, tok.start, tok.end, "pronoun")
    if _is_name_token(tok) and tok.text not in ORG_WORDS or (tok.cap and tok.text in ORG_WORDS):
        k = j
        while k - 1 >= 0 and (
            _is_name_token(tokens[k - 1])
            or tokens[k - 1].lower in TITLES
            or tokens[k - 1].text in {"-"}
            or (tokens[k - 1].lower in {"to", "of"} and k - 2 >= 0 and tokens[k - 2].cap)
        ):
            k -= 1
        while k < j and (tokens[k].text in NON_NAME_WORDS or tokens[k].lower in {"to", "of"}):
            k += 1
        if k - 1 >= 0 and tokens[k - 1].lower in DETERMINERS and tokens[k - 1].lower != "that":
            k -= 1
        span = tokens[k : j + 1]
        if span[0].text in NON_NAME_WORDS and len(span) == 1:
            return None
        return _Mention(_join(span), span[0].start, span[-1].end, "name")
    if (
        tok.text.isalpha()
        and not tok.cap
        and tok.lower not in CUE_VERBS
        and tok.lower not in DETERMINERS
        and tok.lower not in FUNCTION_WORDS
    ):
        k = j
        while k - 1 >= 0 and j - k < 6 and tokens[k - 1].text not in {",", ".", "“", "”", '"', ":", ";"}:
            prev = tokens[k - 1]
            if prev.lower in DETERMINERS or prev.text.endswith(("'s", "’s")):
                k -= 1
                while (
                    k - 1 >= 0
                    and (tokens[k - 1].cap or tokens[k - 1].lower in DETERMINERS)
                    and tokens[k].text.endswith(("'s", "’s"))
                    and j - k < 7
                ):
                    k -= 1
                return _Mention(_join(tokens[k : j + 1]), tokens[k].start, tok.end, "nominal")
            if prev.lower in CUE_VERBS or prev.lower in FUNCTION_WORDS:
                break
            k -= 1
        if tok.lower in ROLE_NOUNS and tok.lower.endswith("s"):
            return _Mention(tok.text, tok.start, tok.end, "nominal")
    return None


def _mention_after(tokens: list[_Tok], i: int) -> _Mention | None:
    """The mention right after a cue at ``i`` ("said Jalali", "said the ambassador")."""
    j = i + 1
    if j >= len(tokens):
        return None
    tok = tokens[j]
    if tok.lower in {"he", "she"}:
        return _Mention(tok.text, tok.start, tok.end, "pronoun")
    if tok.lower in {
        "that",
        "this",
        "it",
        "there",
        "so",
        "to",
        "in",
        "on",
        "at",
        "of",
        "for",
        "with",
        "about",
        "yes",
        "no",
        "only",
        "also",
        "they",
        "we",
        "i",
        "you",
    }:
        return None
    k = j
    if tok.lower in DETERMINERS or tok.text.endswith(("'s", "’s")):
        k += 1
    elif not tok.cap and tok.text.isalpha():
        m = j
        while (
            m < len(tokens)
            and m - j < 5
            and tokens[m].text.isalpha()
            and not tokens[m].cap
            and tokens[m].lower not in CUE_VERBS
            and tokens[m].lower
            not in {"in", "on", "at", "that", "and", "but", "to", "of", "for", "with", "it"}
        ):
            m += 1
        if m < len(tokens) and m > j and tokens[m].cap and tokens[m].text not in NON_NAME_WORDS:
            end = m
            while end < len(tokens) and (tokens[end].cap or tokens[end].text == "-"):
                end += 1
            return _Mention(_join(tokens[j:end]), tokens[j].start, tokens[end - 1].end, "name")
    end = k
    while (
        end < len(tokens)
        and end - j < 8
        and (
            tokens[end].cap
            or tokens[end].lower in TITLES
            or tokens[end].text in {"-"}
            or (tokens[end].lower in {"of", "to"} and end + 1 < len(tokens) and tokens[end + 1].cap)
            or (
                k > j
                and not tokens[end].cap
                and tokens[end].text.isalpha()
                and tokens[end].lower not in CUE_VERBS
                and tokens[end].lower
                not in {
                    "in",
                    "on",
                    "at",
                    "that",
                    "and",
                    "but",
                    "who",
                    "which",
                    "during",
                    "after",
                    "before",
                    "while",
                    "when",
                    "with",
                    "last",
                    "this",
                    "told",
                    "to",
                }
            )
        )
    ):
        end += 1
    if end == j or (end == k and k > j):
        return None
    span = tokens[j:end]
    if span[0].text in NON_NAME_WORDS and len(span) == 1:
        return None
    kind = (
        "name"
        if any(t.cap and t.lower not in TITLES for t in span) and span[0].lower not in DETERMINERS
        else "nominal"
    )
    if kind == "nominal" and not any(
        t.lower in ROLE_NOUNS or t.lower.endswith(("ist", "ian", "er", "or")) for t in span
    ):
        if not any(t.cap for t in span[1:]):
            return None
    return _Mention(_join(span), span[0].start, span[-1].end, kind)


def _join(tokens: list[_Tok]) -> str:
    out = tokens[0].text
    for prev, tok in zip(tokens, tokens[1:], strict=False):
        out += (" " if tok.start > prev.end else "") + tok.text
    return out


# --------------------------------------------------------------------------------------------
# Entities: collect names, resolve mentions
# --------------------------------------------------------------------------------------------


@dataclass
class _Person:
    name: str
    tokens: tuple[str, ...]
    titles: set[str] = field(default_factory=set)
    gender: str | None = None
    last_seen: int = 0
    first_seen: int = 0


class _Entities:
    """Names met so far in the article, for resolving 'Jalali', 'he' and 'the ambassador'."""

    def __init__(self) -> None:
        self.people: list[_Person] = []

    def add_name(self, raw_tokens: list[_Tok], position: int) -> _Person | None:
        core = _name_core(raw_tokens)
        words = [t.text for t in core if t.text not in {"-"}]
        words = [w for w in words if w[:1].isupper() or w in {"de", "van", "von", "bin", "al"}]
        if not words or any(w in ORG_WORDS for w in words) or words[0] in NON_NAME_WORDS:
            return None
        words = [re.sub(r"['’]s$", "", w) for w in words]
        title_words = {t.lower for t in raw_tokens[: len(raw_tokens) - len(core)]}
        person = self.lookup(words, position)
        if person is None:
            person = _Person(" ".join(words), tuple(w.lower() for w in words), first_seen=position)
            self.people.append(person)
        elif len(words) > len(person.tokens):
            person.name, person.tokens = " ".join(words), tuple(w.lower() for w in words)
        person.titles |= title_words
        person.last_seen = position
        for title in title_words:
            if title in GENDER_TITLES:
                person.gender = GENDER_TITLES[title]
        if person.gender is None and person.tokens[0] in FEMALE_FIRST:
            person.gender = "f"
        return person

    def lookup(self, words: list[str], position: int) -> _Person | None:
        lowered = tuple(w.lower() for w in words)
        best = None
        for person in self.people:
            if person.tokens == lowered:
                return person
            if len(lowered) == 1 and lowered[0] == person.tokens[-1]:
                best = person if best is None or person.last_seen > best.last_seen else best
            elif len(lowered) > 1 and len(person.tokens) > 1 and lowered[-1] == person.tokens[-1]:
                if (
                    lowered[0] == person.tokens[0]
                    or lowered[0][:1] == person.tokens[0][:1]
                    and len(lowered[0].rstrip(".")) == 1
                ):
                    best = person
            elif len(lowered) > 1 and len(person.tokens) == 1 and lowered[-1] == person.tokens[0]:
                best = person
        return best

    def by_pronoun(self, gender: str | None, position: int) -> _Person | None:
        candidates = [
            p
            for p in self.people
            if p.last_seen <= position
            and len(p.tokens) >= 1
            and (gender is None or p.gender in (None, gender))
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda p: p.last_seen)

    def by_role(self, words: list[str], position: int) -> _Person | None:
        wanted = {w.lower().rstrip("s").removesuffix("'").removesuffix("’") for w in words}
        wanted -= DETERMINERS
        head = words[-1].lower() if words else ""
        best, best_score = None, 0
        for person in self.people:
            if head not in person.titles:
                continue
            stems = {t.rstrip("s").removesuffix("'").removesuffix("’") for t in person.titles}
            score = len(wanted & stems) + len({_stem(w) for w in wanted} & {_stem(t) for t in stems})
            if score > best_score or (
                score == best_score and best is not None and person.last_seen > best.last_seen
            ):
                best, best_score = person, score
        return best


def _stem(word: str) -> str:
    word = word.lower().removesuffix("'s").removesuffix("’s")
    for suffix in ("ian", "ese", "ish", "an", "i", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_NAME_RUN = re.compile(
    r"(?:(?:[A-Z][\w’'.-]*|of|to|for)\s+){0,7}"
    r"(?:[A-Z]\.\s+)?[A-Z][a-z]+(?:[-’'][A-Z]?[a-z]+)*(?:\s+(?:[A-Z]\.\s+)?"
    r"(?:(?:de|van|von|bin|al|da|del|la)\s+)?[A-Z][a-z]+(?:[-’'][A-Z]?[a-z]+)*)+"
)


def _collect_names(text: str, start: int, end: int, masked: str, ents: _Entities) -> None:
    """Register multi-word capitalised names (with their titles) found outside quotes."""
    for m in _NAME_RUN.finditer(masked, start, end):
        toks = _tokens(text, m.start(), m.end())
        while toks and (toks[0].text in NON_NAME_WORDS and toks[0].lower not in TITLES):
            toks = toks[1:]
        if len(toks) < 2:
            continue
        core = _name_core(toks)
        if len(core) < 2 or any(t.text in ORG_WORDS for t in core):
            continue
        ents.add_name(toks, m.start())


# --------------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------------

_NOT_SPEECH_BEFORE = re.compile(
    r"(?:so[- ]called|dubbed|nicknamed|titled|entitled|named|known as|the word|the words|the term|"
    r"the phrase|the slogan|the hashtag|the book|the film|the movie|the song|the show|the album|"
    r"the article|the report|the play|the series|the program|the campaign|branded|labeled|"
    r"labelled|headlined|a sign reading|signs reading|marked|read|reads|reading|show|program|"
    r"programme|book|series|film|movie|column|hosts of|op-ed|editorial|ad|initiative|project|"
    r"\w['’]s)\s*[,:]?\s*$",
    re.IGNORECASE,
)


@dataclass
class _Attribution:
    mention: _Mention | None
    cue: str | None


def _find_cue(tokens: list[_Tok], lo: int, hi: int, prefer: str) -> list[int]:
    """Indices of cue tokens in ``tokens[lo:hi]``, nearest first from ``prefer`` ('left'/'right')."""
    found = [
        i
        for i in range(lo, hi)
        if (tokens[i].lower in CUE_VERBS and (not tokens[i].text[:1].isupper() or i == 0))
        or (tokens[i].lower == "put" and i + 1 < hi and tokens[i + 1].lower == "it")
        or (tokens[i].lower == "according" and i + 1 < hi and tokens[i + 1].lower == "to")
    ]
    return found if prefer == "right" else found[::-1]


def _attribute(
    tokens: list[_Tok], quote_idx: list[int], mixed: bool = False, fallback: bool = True
) -> _Attribution:
    """Find a cue and its mention in a sentence whose quoted parts are the ``§`` tokens.

    A quote that opens its sentence looks right first ('“…,” Jalali said'), then between its
    parts ('“A,” X said, “B.”'), then left ('X said: “…”'); a mixed quote, a fragment inside
    reported speech, looks left first ('Lavrov said Iran was “…”').
    """
    first_q = quote_idx[0]
    last_q = quote_idx[-1]
    after = (last_q + 1, len(tokens), "right")
    between = [(a + 1, b, "right") for a, b in zip(quote_idx, quote_idx[1:], strict=False) if b > a + 1]
    before = (0, first_q, "left")
    orders = [before, *between, after] if mixed else [after, *between, before]
    if mixed and _tight_cue_after(tokens, last_q):
        # '… a “fragment,” she said' : an attribution right after the quote wins
        orders = [after, *between, before]
    for lo, hi, prefer in orders:
        if prefer == "right" and lo < hi and tokens[lo].text in {"-", "—", "–", "―"}:
            mention = _mention_after(tokens, lo)
            if mention:
                return _Attribution(mention, None)
        for i in _find_cue(tokens, lo, hi, prefer):
            word = tokens[i].lower
            if word == "according":
                mention = _mention_after(tokens, i + 1)
                if mention:
                    return _Attribution(mention, "according to")
                continue
            if word == "put":
                word = "put it"
            if (
                word in NOUN_LIKE_CUES
                and (i == 0 or _mention_ending_at(tokens, i - 1) is None)
                and not (i >= 1 and tokens[i - 1].text == "§")
                and not (i >= 2 and tokens[i - 1].text == "," and tokens[i - 2].text == "§")
            ):
                continue
            if word in PARTICIPLE_CUES:
                subject = None
                if i > 0 and tokens[i - 1].text not in {",", "§"}:
                    subject = _mention_ending_at(tokens, i - 1)
                subject = subject or _clause_subject(tokens, i)
                if subject:
                    return _Attribution(subject, word)
                continue
            mention = _mention_before(tokens, i)
            if mention is not None and lo > 0 and mention.start < tokens[lo].start:
                mention = None
            if mention is None:
                after_mention = _mention_after(tokens, i)
                if after_mention is not None:
                    return _Attribution(after_mention, word)
                if prefer == "left":
                    subject = _clause_subject(tokens, i)
                    if subject:
                        return _Attribution(subject, word)
                continue
            return _Attribution(mention, word)
        if prefer == "right" and lo == last_q + 1:
            for j in range(lo, min(hi, lo + 12)):
                if tokens[j].text == "§":
                    break
                if (
                    tokens[j].lower == "in"
                    and j + 2 < hi
                    and tokens[j + 1].lower in {"a", "an"}
                    and tokens[j + 2].lower
                    in {
                        "statement",
                        "interview",
                        "tweet",
                        "post",
                        "letter",
                        "email",
                        "memo",
                        "speech",
                    }
                ):
                    mention = _mention_after(tokens, j + 2) or _clause_subject(tokens, j)
                    if mention:
                        return _Attribution(mention, f"in a {tokens[j + 2].lower}")
    if fallback and (mixed or first_q > 0):
        # no cue word: the subject of the sentence holding the fragment ("Trump vowed to “…”")
        subject = _clause_subject(tokens, first_q)
        if subject is not None:
            return _Attribution(subject, None)
    return _Attribution(None, None)


def _tight_cue_after(tokens: list[_Tok], q: int) -> bool:
    """A cue within the three tokens after quote token ``q``, before any other word run."""
    for j in range(q + 1, min(len(tokens), q + 5)):
        if tokens[j].lower in CUE_VERBS and not tokens[j].text[:1].isupper():
            return True
        if tokens[j].text in {".", ";", "§"} or (tokens[j].lower in FUNCTION_WORDS):
            return False
    return False


def _clause_subject(tokens: list[_Tok], i: int) -> _Mention | None:
    """Subject of the main clause before token ``i``: the mention before its first verb."""
    start = 0
    for k in range(i - 1, -1, -1):
        if tokens[k].text in {"§", ".", ";", ":"}:
            start = k + 1
            break
    k = start
    # skip an opening adverbial: "At the UN on Sept. 25, Lavrov ..." / "In a call with X, ..."
    if k < i and tokens[k].lower in {
        "at",
        "in",
        "on",
        "during",
        "after",
        "before",
        "speaking",
        "asked",
        "later",
        "earlier",
        "last",
        "when",
        "while",
        "addressing",
        "writing",
        "meanwhile",
        "however",
        "still",
    }:
        while k < i and tokens[k].text != ",":
            k += 1
        k += 1
    for j in range(k, i):
        if tokens[j].text in {",", "§"}:
            continue
        nxt = tokens[j + 1] if j + 1 < len(tokens) else None
        if (
            nxt is not None
            and not nxt.cap
            and nxt.text.isalpha()
            and nxt.lower not in {"of", "and", "to", "for", "at", "in", "the"}
        ):
            mention = _mention_ending_at(tokens, j)
            if mention:
                return mention
        if j > k + 8:
            break
    return None


def _mask_quotes(text: str, spans: list[_Span]) -> str:
    chars = list(text)
    for span in spans:
        a = span.open_mark
        b = span.close_mark + 1 if span.close_mark is not None else span.end
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = "§"
    return "".join(chars)


def _is_not_speech(text: str, span: _Span, masked: str, sent: tuple[int, int], has_cue: bool) -> bool:
    inner = text[span.start : span.end].strip()
    words = inner.split()
    before = masked[max(sent[0], span.open_mark - 40) : span.open_mark]
    if _NOT_SPEECH_BEFORE.search(before):
        return True
    if len(words) > 6:
        return False
    ends_like_speech = inner[-1:] in ".!?,;—–-" if inner else False
    content = [
        w
        for w in words
        if w.lower() not in {"of", "the", "a", "an", "and", "in", "on", "to", "for", "at", "with", "&"}
    ]
    title_case = bool(content) and all(w[:1].isupper() or not w[:1].isalpha() for w in content)
    if title_case and not has_cue:
        return True
    if title_case and not ends_like_speech and len(words) >= 1:
        prev = text[span.open_mark - 2 : span.open_mark].strip()
        nxt = text[(span.close_mark or span.end) + 1 : (span.close_mark or span.end) + 3].strip()
        # nickname between names: Donald “The Donald” Trump
        if prev[-1:].isalpha() and nxt[:1].isupper():
            return True
        if not has_cue or len(words) >= 2:
            return True
    if not has_cue and len(words) <= 3 and not ends_like_speech:
        return True
    return False


def extract_quotes(text: str) -> list[Quote]:
    """Find every quotation in an article and attribute it.

    Args:
        text: the article as plain text (HTML entities are decoded; offsets refer to ``text``).

    Returns:
        Quotes in reading order. Scare quotes, titles and nicknames are left out.

    Raises:
        TypeError: ``text`` is not a string.

    Example:
        >>> [q.speaker for q in extract_quotes('Kazem Jalali spoke. “Good,” Jalali said.')]
        ['Kazem Jalali']
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_quotes expects str, got {type(text).__name__}")
    original = text
    text, offsets = decode_entities(text)
    paras = paragraphs(text)
    spans = find_quote_spans(text, paras)
    masked = _mask_quotes(text, spans)
    ents = _Entities()

    by_para: dict[int, list[_Span]] = {}
    for span in spans:
        by_para.setdefault(span.paragraph, []).append(span)

    results: list[Quote] = []
    group = -1
    last_speaker: tuple[str | None, _Mention | None, str | None] | None = None
    last_group_para = -2
    intro = None
    chain = -1
    chains: list[tuple[int, bool]] = []
    for p_index, (p_start, p_end) in enumerate(paras):
        sentences = _sentence_bounds(text, p_start, p_end, masked)
        para_spans = by_para.get(p_index, [])
        # Names are registered sentence by sentence, so "he" resolves to someone already met.
        span_iter = iter(para_spans)
        pending = next(span_iter, None)
        para_had_quote_speaker = False
        for s_start, s_end in sentences:
            _collect_names(text, s_start, s_end, masked, ents)
            sent_spans = []
            while pending is not None and pending.open_mark < s_end:
                sent_spans.append(pending)
                pending = next(span_iter, None)
            if not sent_spans:
                if masked[s_start:s_end].rstrip().endswith(":"):
                    # "He said:" closing a paragraph introduces the quote that follows
                    toks = _tokens(text, s_start, s_end)
                    att = _attribute(toks + [_Tok("§", s_end, s_end)], [len(toks)], True)
                    if att.mention is not None:
                        intro = (*_resolve(att, ents, text, s_start), p_index)
                _note_subjects(text, s_start, s_end, masked, ents)
                continue
            # sentence may extend over later spans when a span crosses its end
            s_end = max(s_end, max(s.end for s in sent_spans))
            tokens = _tokens(masked, s_start, s_end)
            tokens = [
                _Tok(text[t.start : t.end] if t.text[0] != "§" else "§", t.start, t.end)
                for t in _collapse_masks(tokens)
            ]
            quote_idx = [i for i, t in enumerate(tokens) if t.text == "§"]
            first_mixed = _kind(text, masked, sent_spans[0], s_start) == "mixed"
            attribution = (
                _attribute(tokens, quote_idx, first_mixed) if quote_idx else _Attribution(None, None)
            )
            has_cue = attribution.cue is not None or any(
                t.lower in CUE_VERBS for t in tokens if t.text != "§"
            )
            keep = [s for s in sent_spans if not _is_not_speech(text, s, masked, (s_start, s_end), has_cue)]
            if not keep:
                _note_subjects(text, s_start, s_end, masked, ents)
                continue
            sentence_att = attribution
            for n_span, span in enumerate(keep):
                kind = _kind(text, masked, span, s_start)
                attribution = _local_attribution(tokens, quote_idx, span, kind) or sentence_att
                speaker, mention, cue = _resolve(attribution, ents, text, s_start)
                if (
                    n_span == 0
                    and attribution.mention is None
                    and intro is not None
                    and intro[3] == p_index - 1
                    and not text[p_start : span.open_mark].strip()
                ):
                    speaker, mention, cue = intro[:3]
                    attribution = _Attribution(mention, cue)
                intro = None
                continued = span.continued or (
                    attribution.mention is None
                    and last_speaker is not None
                    and last_group_para in (p_index, p_index - 1)
                    and (n_span > 0 or not text[p_start : span.open_mark].strip())
                    and (last_group_para == p_index - 1 or para_had_quote_speaker)
                )
                if (
                    attribution.mention is None
                    and last_speaker is not None
                    and (continued or para_had_quote_speaker)
                ):
                    speaker, mention, cue = last_speaker
                    if not span.continued and n_span == 0 and last_group_para != p_index:
                        group += 1
                elif (
                    last_speaker is None
                    or mention is None
                    or last_speaker[1] is None
                    or last_speaker[1].start != mention.start
                ):
                    group += 1
                if attribution.mention is not None or continued:
                    last_speaker = (speaker, mention, cue)
                    last_group_para = p_index
                    para_had_quote_speaker = True
                if not span.continued:
                    chain += 1
                chains.append((chain, attribution.mention is not None))
                results.append(_make_quote(original, text, offsets, span, speaker, mention, cue, kind, group))
            _note_subjects(text, s_start, s_end, masked, ents)
            if mention is not None and mention.kind == "name":
                found = ents.lookup([w for w in mention.text.split()], mention.start)
                if found:
                    found.last_seen = mention.start
    return _share_chain_speakers(results, chains)


def _share_chain_speakers(results: list[Quote], chains: list[tuple[int, bool]]) -> list[Quote]:
    """Paragraphs of one quote share the speaker named in any of them (often only the last)."""
    members: dict[int, list[int]] = {}
    for index, (chain, _) in enumerate(chains):
        members.setdefault(chain, []).append(index)
    for indices in members.values():
        if len(indices) < 2:
            continue
        owners = [i for i in indices if chains[i][1]]
        if not owners:
            continue
        source = results[owners[0]]
        for i in indices:
            if not chains[i][1]:
                results[i] = replace(
                    results[i],
                    speaker=source.speaker,
                    speaker_mention=source.speaker_mention,
                    speaker_start=source.speaker_start,
                    speaker_end=source.speaker_end,
                    cue=source.cue,
                )
            results[i] = replace(results[i], group=source.group)
    return results


def _local_attribution(
    tokens: list[_Tok], quote_idx: list[int], span: _Span, kind: str
) -> _Attribution | None:
    """Cue and mention in the text between this quote and its neighbouring quotes, if any."""
    position = next(
        (n for n, i in enumerate(quote_idx) if tokens[i].start <= span.open_mark < tokens[i].end),
        None,
    )
    if position is None:
        return None
    qi = quote_idx[position]
    lo = quote_idx[position - 1] + 1 if position > 0 else 0
    hi = quote_idx[position + 1] if position + 1 < len(quote_idx) else len(tokens)
    window = tokens[lo:hi]
    att = _attribute(window, [qi - lo], kind == "mixed", fallback=False)
    return att if att.mention is not None else None


def _collapse_masks(tokens: list[_Tok]) -> list[_Tok]:
    out: list[_Tok] = []
    for tok in tokens:
        if tok.text[0] == "§":
            if out and out[-1].text[0] == "§" and out[-1].end == tok.start:
                out[-1] = _Tok("§", out[-1].start, tok.end)
                continue
            out.append(_Tok("§", tok.start, tok.end))
        else:
            out.append(tok)
    return out


def _note_subjects(text: str, start: int, end: int, masked: str, ents: _Entities) -> None:
    """Move single-word mentions of known people ('Lavrov criticized') to the front of memory."""
    for m in re.finditer(r"\b[A-Z][\w’'-]+", masked[start:end]):
        word = m.group().removesuffix("’s").removesuffix("'s")
        if word in NON_NAME_WORDS:
            continue
        person = ents.lookup([word], start + m.start())
        if person is not None and person.tokens[-1] == word.lower():
            person.last_seen = max(person.last_seen, start + m.start())


def _resolve(att: _Attribution, ents: _Entities, text: str, s_start: int):
    mention = att.mention
    if mention is None:
        return None, None, att.cue
    if mention.kind == "pronoun":
        word = mention.text.lower()
        if word in {"he", "she"}:
            person = ents.by_pronoun(PRONOUNS[word], mention.start)
            if person is not None and person.gender is None:
                person.gender = PRONOUNS[word]
            return (person.name if person else None), mention, att.cue
        return None, mention, att.cue
    toks = _tokens(text, mention.start, mention.end)
    if mention.kind == "name":
        person = ents.add_name(toks, mention.start)
        if person is not None:
            return person.name, mention, att.cue
        return _strip_title(mention.text), mention, att.cue
    words = [t.text for t in toks if t.text.isalpha() or "'" in t.text or "’" in t.text]
    if any(t.cap and t.lower not in TITLES and t.text not in NON_NAME_WORDS for t in toks[1:]):
        person = ents.add_name(toks, mention.start)
        if person is not None:
            return person.name, mention, att.cue
    person = ents.by_role(words, mention.start)
    if person is not None and not words[-1].lower().endswith("s"):
        person.last_seen = mention.start
        return person.name, mention, att.cue
    return None, mention, att.cue


def _strip_title(name: str) -> str:
    words = name.split()
    while len(words) > 1 and (words[0].lower().rstrip(".") in TITLES or words[0].lower() in DETERMINERS):
        words = words[1:]
    return " ".join(words).removesuffix("’s").removesuffix("'s")


def _kind(text: str, masked: str, span: _Span, s_start: int) -> str:
    """'direct' when the quote stands as a sentence, 'mixed' when it is a fragment inside one."""
    if span.continued:
        return "direct"
    before = masked[s_start : span.open_mark].rstrip()
    if not before or before[-1] in ":,—–-(" or before.endswith("§"):
        return "direct"
    return "mixed"


def _make_quote(original, text, offsets, span, speaker, mention, cue, kind, group) -> Quote:
    start, end = span.start, span.end
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1

    def orig(i: int | None) -> int | None:
        return None if i is None or offsets is None else offsets[i]

    if offsets is not None:
        o_start, o_end = offsets[start], offsets[end]
        m_start = orig(mention.start) if mention else None
        m_end = orig(mention.end) if mention else None
        quote_text = original[o_start:o_end]
        mention_text = original[m_start:m_end] if mention else None
    else:
        o_start, o_end = start, end
        m_start = mention.start if mention else None
        m_end = mention.end if mention else None
        quote_text = text[start:end]
        mention_text = mention.text if mention else None
    return Quote(
        text=quote_text,
        start=o_start,
        end=o_end,
        speaker=speaker,
        speaker_mention=mention_text,
        speaker_start=m_start,
        speaker_end=m_end,
        cue=cue,
        kind=kind,
        paragraph=span.paragraph,
        group=group,
    )
