"""One speaker across articles: "Sergei Lavrov", "Lavrov" and "Russian Foreign Minister Sergei
Lavrov" are one person; "Bill Clinton" and "Hillary Clinton" are two.

Within an article the quote splitter already resolves "he" and "Lavrov" to the fullest name the
article gives. Across articles we only have those names, so merging is a pure function of the set
of names (and how often each occurs), independent of the order articles were read in:

1. Core name: drop a possessive lead ("RealClearPolitics' David Byler"), then everything up to
   and including the last title or role word ("Russian Foreign Minister Sergei Lavrov" ->
   "Sergei Lavrov"), then leading lower-case words. Comparison ignores case and accents.
2. A core of three or more words whose last two or more words are themselves a core seen in the
   corpus collapses to that name ("Democrat Hillary Clinton" -> "Hillary Clinton").
3. Names of two or more words with the same first and last word are one person
   ("Hillary Rodham Clinton" = "Hillary Clinton"); a different first word is a different person.
4. A one-word name ("Lavrov") joins the one person with that surname; when the corpus has several
   ("Bill Clinton", "Hillary Clinton") it stays apart as its own speaker, since nothing says which.
5. A merged speaker is shown by its most frequent full (two or more words) core name; ties go to
   the shorter, then the alphabetically first ("Hillary Clinton" over "Hillary Rodham Clinton").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from stance.lexicon import ROLE_NOUNS, TITLES

_LEADS = TITLES | ROLE_NOUNS
_POSSESSIVE = re.compile(r"(?:['’]s?)$")


def _fold(word: str) -> str:
    stripped = unicodedata.normalize("NFKD", word)
    return "".join(c for c in stripped if not unicodedata.combining(c)).casefold().rstrip(".,")


def core_name(name: str) -> str:
    """The person's name without titles, roles and possessive leads (rule 1).

    >>> core_name("Russian Foreign Minister Sergei Lavrov")
    'Sergei Lavrov'
    """
    words = name.split()
    for i in range(len(words) - 2, -1, -1):
        if _POSSESSIVE.search(words[i]) and words[i][0].isupper():
            words = words[i + 1 :]
            break
    for i in range(len(words) - 2, -1, -1):
        if _fold(words[i]) in _LEADS:
            words = words[i + 1 :]
            break
    while len(words) > 1 and not words[0][:1].isupper():
        words = words[1:]
    return " ".join(words) if words else name.strip()


def _key(core: str) -> tuple[str, ...]:
    return tuple(_fold(w) for w in core.split())


def merge_speakers(names: Mapping[str, int] | Iterable[str]) -> dict[str, str]:
    """Map each speaker name (as the articles give it) to its merged corpus speaker.

    Args:
        names: speaker names with their quote counts, or an iterable of names (one per quote).

    Returns:
        ``{name: merged name}`` for every name given.

    Example:
        >>> merge_speakers(["Sergei Lavrov", "Lavrov", "Bill Clinton", "Hillary Clinton", "Clinton"])
        {'Sergei Lavrov': 'Sergei Lavrov', 'Lavrov': 'Sergei Lavrov', 'Bill Clinton': 'Bill Clinton', \
'Hillary Clinton': 'Hillary Clinton', 'Clinton': 'Clinton'}
    """
    counts = Counter(names) if not isinstance(names, Mapping) else Counter(dict(names))
    cores = {name: core_name(name) for name in counts}
    full_keys = {_key(c) for c in cores.values() if len(c.split()) >= 2}

    def person(core: str) -> tuple[str, ...]:
        key = _key(core)
        # rule 2: the longest suffix that is a full name elsewhere in the corpus
        for start in range(1, len(key) - 1):
            if key[start:] in full_keys:
                key = key[start:]
                break
        return (key[0], key[-1]) if len(key) >= 2 else key

    persons = {name: person(core) for name, core in cores.items()}
    by_surname: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for key in persons.values():
        if len(key) == 2:
            by_surname[key[-1]].add(key)
    for name, key in persons.items():
        if len(key) == 1 and len(by_surname.get(key[0], ())) == 1:
            persons[name] = next(iter(by_surname[key[0]]))  # rule 4
    # rule 5: display name per person, from the core names' quote counts
    surface: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    for name, key in persons.items():
        surface[key][_display_core(cores[name], key)] += counts[name]
    display = {
        key: min(forms.items(), key=lambda kv: (" " not in kv[0], -kv[1], len(kv[0]), kv[0]))[0]
        for key, forms in surface.items()
    }
    return {name: display[key] for name, key in persons.items()}


def _display_core(core: str, key: tuple[str, ...]) -> str:
    """Drop words before the person's first name ("Democrat Hillary Clinton" -> "Hillary Clinton")."""
    words = core.split()
    if len(key) == 2 and len(words) > 2:
        for i, word in enumerate(words):
            if _fold(word) == key[0]:
                return " ".join(words[i:])
    return core
