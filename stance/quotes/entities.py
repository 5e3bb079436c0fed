"""The people an article has named so far, for resolving 'Jalali', 'he' and 'the ambassador'.

Lookups (:meth:`Entities.find`, :meth:`Entities.by_pronoun`, :meth:`Entities.by_role`) only read;
updates (:meth:`Entities.add_name`, :meth:`Entities.seen`) are separate calls. Every lookup goes
through an index or a bounded window of the most recently seen people, so an article with
thousands of names costs the same per lookup as one with three.
"""

from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from stance.lexicon import (
    APPOSITIVE_STOPS,
    DEMONYM_SUFFIXES,
    DETERMINERS,
    FEMALE_FIRST,
    GENDER_TITLES,
    GENDERED_PRONOUNS,
    NAME_RUN_LINKS,
    NEVER_NAME_WORDS,
    NON_NAME_WORDS,
    ORG_WORDS,
    PRONOUNS,
    ROLE_NOUNS,
    TITLES,
)
from stance.quotes.mentions import Mention, is_name_token, name_core, opening_cue
from stance.quotes.text import Tok, is_particle

# A pronoun or a role noun points back to someone among the last few dozen people mentioned;
# looking further costs time on long documents and finds nobody a reader would pick.
_RECENT = 40
# Within this many characters (a few sentences) a pronoun keeps to a person of its known gender.
_SAME_TOPIC_CHARS = 400


@dataclass(eq=False)
class Person:
    name: str
    tokens: tuple[str, ...]
    titles: set[str] = field(default_factory=set)
    gender: str | None = None
    last_seen: int = 0
    first_seen: int = 0


def _clean(word: str) -> str:
    return re.sub(r"['’]s$", "", word)


def name_words(raw_tokens: list[Tok]) -> list[str]:
    """The words that make a name mention's name: its core's capitalised words and particles
    (titles before it dropped), as written (a possessive "'s" still on)."""
    core = name_core(raw_tokens)
    return [t.text for t in core if t.text != "-" and (t.text[:1].isupper() or is_particle(t))]


class Entities:
    """Names met so far in the article, indexed by full name, surname and title."""

    def __init__(self) -> None:
        self.by_tokens: dict[tuple[str, ...], Person] = {}
        self.by_last: dict[str, list[Person]] = defaultdict(list)
        self.by_first: dict[str, list[Person]] = defaultdict(list)
        self.by_title: dict[str, list[Person]] = defaultdict(list)
        self.recent: OrderedDict[int, Person] = OrderedDict()

    # ---------------------------------------------------------------- lookups (no side effects)

    def find(self, words: list[str]) -> Person | None:
        """The person that ``words`` ('Jalali', 'Kazem Jalali', 'K. Jalali', 'Ola') name, if any."""
        lowered = tuple(w.lower() for w in words)
        if not lowered:
            return None
        exact = self.by_tokens.get(lowered)
        if exact is not None:
            return exact
        same_last = self.by_last.get(lowered[-1], [])
        if len(lowered) == 1:
            if same_last:
                return max(same_last, key=lambda p: p.last_seen)
            # a first name alone ('Ola' after 'Ola Berg')
            same_first = [p for p in self.by_first.get(lowered[0], []) if len(p.tokens) > 1]
            return max(same_first, key=lambda p: p.last_seen) if same_first else None
        best = None
        for person in same_last:
            if len(person.tokens) == 1 or person.tokens[-len(lowered) :] == lowered:
                best = person  # 'Jalali' named first, or 'von der Leyen' after 'Ursula von der Leyen'
            elif lowered[0] == person.tokens[0] or (
                lowered[0][:1] == person.tokens[0][:1] and len(lowered[0].rstrip(".")) == 1
            ):
                best = person
        return best

    def by_pronoun(self, gender: str | None, position: int) -> Person | None:
        """The person most recently seen before ``position`` whose gender fits; one known to have
        that gender wins over a nearer one of unknown gender if seen in the last few sentences."""
        best = known = None
        for n, person in enumerate(reversed(self.recent.values())):
            if n >= _RECENT:
                break
            if person.last_seen <= position and (gender is None or person.gender in (None, gender)):
                if best is None or person.last_seen > best.last_seen:
                    best = person
                if gender is not None and person.gender == gender:
                    if known is None or person.last_seen > known.last_seen:
                        known = person
        if known is not None and best is not None and best.last_seen - known.last_seen < _SAME_TOPIC_CHARS:
            return known
        return best

    def by_role(self, words: list[str]) -> Person | None:
        """The person introduced with the title that heads ``words`` ('the minister')."""
        wanted = {w.lower().rstrip("s").removesuffix("'").removesuffix("’") for w in words}
        wanted -= DETERMINERS
        head = words[-1].lower() if words else ""
        best, best_score = None, 0
        for person in self.by_title.get(head, [])[-_RECENT:]:
            stems = {t.rstrip("s").removesuffix("'").removesuffix("’") for t in person.titles}
            score = len(wanted & stems) + len({_stem(w) for w in wanted} & {_stem(t) for t in stems})
            if score > best_score or (
                score == best_score and best is not None and person.last_seen > best.last_seen
            ):
                best, best_score = person, score
        return best

    def most_recent(self, position: int) -> Person | None:
        """The person seen last before ``position``."""
        return self.by_pronoun(None, position)

    # ------------------------------------------------------------------------------- updates

    def add_name(self, raw_tokens: list[Tok], position: int, titles: set[str] | None = None) -> Person | None:
        """Register (or refresh) the person a name mention names; titles before it are kept."""
        core = name_core(raw_tokens)
        words = name_words(raw_tokens)
        if not words or any(w in ORG_WORDS for w in words) or words[0] in NON_NAME_WORDS:
            return None
        words = [_clean(w) for w in words]
        title_words = {t.lower for t in raw_tokens[: len(raw_tokens) - len(core)]} | (titles or set())
        person = self.find(words)
        if person is None:
            person = Person(" ".join(words), tuple(w.lower() for w in words), first_seen=position)
            self._index(person)
        elif len(words) > len(person.tokens) and words[-1].lower() == person.tokens[-1]:
            self._unindex(person)
            person.name, person.tokens = " ".join(words), tuple(w.lower() for w in words)
            self._index(person)
        for title in title_words - person.titles:
            self.by_title[title].append(person)
        person.titles |= title_words
        for title in title_words:
            if title in GENDER_TITLES:
                person.gender = GENDER_TITLES[title]
        if person.gender is None and person.tokens[0] in FEMALE_FIRST:
            person.gender = "f"
        self.seen(person, position)
        return person

    def seen(self, person: Person, position: int) -> None:
        """Note that ``person`` was mentioned at ``position``."""
        person.last_seen = max(person.last_seen, position)
        self.recent.pop(id(person), None)
        self.recent[id(person)] = person

    def set_gender(self, person: Person, pronoun: str) -> None:
        if person.gender is None:
            person.gender = PRONOUNS.get(pronoun)

    def _index(self, person: Person) -> None:
        self.by_tokens[person.tokens] = person
        self.by_last[person.tokens[-1]].append(person)
        self.by_first[person.tokens[0]].append(person)

    def _unindex(self, person: Person) -> None:
        self.by_tokens.pop(person.tokens, None)
        self.by_last[person.tokens[-1]].remove(person)
        self.by_first[person.tokens[0]].remove(person)


def _stem(word: str) -> str:
    word = word.lower().removesuffix("'s").removesuffix("’s")
    for suffix in DEMONYM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _is_name_word(tok: Tok) -> bool:
    """A capitalised word with a lower-case letter after its first ('Erdoğan', not 'NATO'), or a
    surname joined to its particle ('al-Rashid')."""
    return (tok.cap and any(c.islower() for c in tok.text[1:])) or ("-" in tok.text and is_particle(tok))


_MAX_NAME_RUN = 12  # titles and a name: "Iran's Ambassador to Moscow Kazem Jalali"
_APPOSITIVE_ROLE = 8  # ", the central bank's chief economist," names a role in a few words


def collect_names(tokens: list[Tok], ents: Entities) -> None:
    """Register multi-word names in a sentence's unquoted tokens, with the titles around them.

    Titles are read from the capitalised run ('Foreign Minister Sergei Lavrov'), from lower-case
    role words before it ('finance minister Anke Vogel') and from an appositive after it
    ('Ola Berg, the bank's chief economist,').
    """
    i = 0
    n = len(tokens)
    while i < n:
        if tokens[i].quote or not (tokens[i].cap or is_particle(tokens[i])):
            i += 1
            continue
        j = i
        while (
            j < n
            and j - i < _MAX_NAME_RUN
            and (
                tokens[j].cap
                or is_particle(tokens[j])
                or (tokens[j].lower in NAME_RUN_LINKS and j + 1 < n and tokens[j + 1].cap)
            )
        ):
            j += 1
        lo, hi = i, j
        i = j
        while lo < hi and (
            (tokens[lo].text in NON_NAME_WORDS and tokens[lo].lower not in TITLES) or opening_cue(tokens, lo)
        ):
            lo += 1
        while hi > lo and not _is_name_word(tokens[hi - 1]):
            hi -= 1
        run = tokens[lo:hi]
        if len(run) < 2:
            continue
        core = name_core(run)
        if len(core) < 2 or any(t.text in ORG_WORDS for t in core):
            continue
        if any(t.text in NEVER_NAME_WORDS for t in core) or not all(
            _is_name_word(t) or is_particle(t) or len(t.text) == 2 for t in core
        ):
            continue
        ents.add_name(run, run[0].start, _titles_before(tokens, lo) | _titles_after(tokens, hi))


def _titles_before(tokens: list[Tok], i: int) -> set[str]:
    """Role words right before a name ('finance minister Anke Vogel', 'finance minister, Anke Vogel')."""
    out = set()
    k = i - 2 if i >= 2 and tokens[i - 1].text == "," else i - 1
    i = k + 1
    while k >= 0 and i - k <= 4 and (tokens[k].lower in TITLES or tokens[k].lower in ROLE_NOUNS):
        out.add(tokens[k].lower)
        k -= 1
    return out


def _titles_after(tokens: list[Tok], j: int) -> set[str]:
    """Role words of an appositive after a name ('Ola Berg, an economist at the bank,')."""
    if j + 1 >= len(tokens) or tokens[j].text != "," or tokens[j + 1].lower not in DETERMINERS:
        return set()
    out = set()
    for tok in tokens[j + 1 : j + 1 + _APPOSITIVE_ROLE]:
        if tok.quote or tok.text in {",", ".", ";"} or tok.lower in APPOSITIVE_STOPS:
            break
        if tok.lower in TITLES or tok.lower in ROLE_NOUNS:
            out.add(tok.lower)
    return out


def note_subjects(tokens: list[Tok], ents: Entities) -> None:
    """Move single-word mentions of known people ('Lavrov criticized') to the front of memory."""
    for tok in tokens:
        if not tok.cap or tok.quote or tok.text in NON_NAME_WORDS or not is_name_token(tok):
            continue
        word = _clean(tok.text)
        people = ents.by_last.get(word.lower())
        if people:
            person = max(people, key=lambda p: p.last_seen)
            ents.seen(person, max(person.last_seen, tok.start))


def resolve(mention: Mention | None, ents: Entities) -> str | None:
    """The canonical name of the person ``mention`` points at, registering new names."""
    if mention is None:
        return None
    if mention.kind == "pronoun":
        word = mention.text.lower()
        if word not in GENDERED_PRONOUNS:
            return None
        person = ents.by_pronoun(PRONOUNS[word], mention.start)
        if person is None:
            return None
        ents.set_gender(person, word)
        return person.name
    toks = list(mention.tokens)
    if mention.kind == "name":
        person = ents.add_name(toks, mention.start)
        return person.name if person is not None else strip_title(mention.text)
    words = [t.text for t in toks if t.text.isalpha() or "'" in t.text or "’" in t.text]
    # "the chief economist Ola Berg" names someone after the role; "the New York businessman" is
    # the role, whatever capitals come before it
    roles = [
        n for n, t in enumerate(toks) if n and t.text.isalpha() and not t.cap and t.lower not in DETERMINERS
    ]
    named = toks[roles[0] + 1 :] if roles else toks[1:]
    if any(t.cap and t.lower not in TITLES and t.text not in NON_NAME_WORDS for t in named):
        person = ents.add_name(toks, mention.start)
        if person is not None:
            return person.name
    if not words:
        return None
    person = ents.by_role(words)
    if person is not None and not words[-1].lower().endswith("s"):
        ents.seen(person, mention.start)
        return person.name
    return None


def strip_title(name: str) -> str:
    """'Mr. Jalali' -> 'Jalali', 'the Kremlin's' -> 'Kremlin'."""
    words = name.split()
    while len(words) > 1 and (words[0].lower().rstrip(".") in TITLES or words[0].lower() in DETERMINERS):
        words = words[1:]
    return " ".join(words).removesuffix("’s").removesuffix("'s")
