"""Linear time on hostile text: every input below once made a regex or a loop of the splitter
backtrack or rescan. Each is run at 1x, 2x, 4x and 8x its size; time must grow about 2x per
doubling (8x in all), with a wide margin for a busy machine, where quadratic growth gives 64x."""

import time

import pytest

from stance.quotes import extract_quotes

# 8x the input may cost at most this many times the 1x time: linear is 8, quadratic 64; the
# margin absorbs a machine busy with other work.
MAX_RATIO_8X = 32


def _names(n: int) -> str:
    # distinct people, each met, quoted and referred to by surname: entity lookups scale with n
    letters = "abcdefghij"
    out = []
    for i in range(n):
        tag = "".join(letters[int(d)] for d in str(i))
        out.append(f"Anna Nowak{tag} met Piotr Kowal{tag}. “We agree,” he said. Kowal{tag} nodded.\n\n")
    return "".join(out)


HOSTILE = {
    "dots": lambda n: "." * (n * 20),
    "bangs_and_questions": lambda n: "Yes!?" * (n * 4),
    "hyphenated_capitals": lambda n: "Ab-" * (n * 40) + "x",
    "capitalised_run": lambda n: "Ab " * (n * 7),
    "many_people": lambda n: _names(n // 8),
    "quotes_in_one_sentence": lambda n: "Jalali said " + "“yes” and " * n + "then left.",
    "cues_in_one_sentence": lambda n: "said " * (n * 4) + "“We are ready.”",
    "opening_marks": lambda n: "“" * (n * 10),
    "straight_marks": lambda n: '"a ' * (n * 5),
    "hard_wrapped_quote": lambda n: "Intro.\n\n" + "“we will\nnot sign\n" * n + "” he said.",
    "appositive_chain": lambda n: "Jalali" + ", a man" * (n * 2) + ", said “yes.”",
    "nested_marks": lambda n: "“how " * n + "are" + " you”" * n,
    "transcript_turns": lambda n: "\n\n".join(f"“AB CD: “x” and “y” {i}?" for i in range(n // 4)),
}


def _seconds(text: str, kinds) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        extract_quotes(text, kinds=kinds)
        best = min(best, time.perf_counter() - started)
    return best


def _ratios(make, kinds, base: int) -> list[float]:
    times = [max(_seconds(make(base * k), kinds), 1e-3) for k in (1, 2, 4, 8)]
    return [t / times[0] for t in times]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_direct_extraction_is_linear(name):
    ratios = _ratios(HOSTILE[name], ("direct", "mixed"), 1000)
    assert ratios[-1] < MAX_RATIO_8X, f"{name}: time x{ratios[-1]:.1f} for 8x the text ({ratios})"


@pytest.mark.parametrize("name", ["many_people", "cues_in_one_sentence", "capitalised_run"])
def test_reported_speech_is_linear(name):
    pytest.importorskip("spacy")
    extract_quotes("Warm-up: Jalali said the parser loads once.", kinds="indirect")
    ratios = _ratios(HOSTILE[name], ("direct", "mixed", "indirect"), 250)
    assert ratios[-1] < MAX_RATIO_8X, f"{name}: time x{ratios[-1]:.1f} for 8x the text ({ratios})"


def test_runs_of_sentence_punctuation_stay_fast():
    started = time.perf_counter()
    assert extract_quotes("." * 100_000) == []
    assert extract_quotes("?!" * 50_000) == []
    # was 95 s before the sentence regex stopped restarting inside a run
    assert time.perf_counter() - started < 20


def test_hyphenated_capital_chain_stays_fast():
    started = time.perf_counter()
    extract_quotes("Ab-" * 13333 + "x")
    assert time.perf_counter() - started < 5  # was 7 s of name-regex backtracking
