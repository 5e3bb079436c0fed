"""The attribution tagger: windows and BIO spans, a tiny tagger trained and loaded through the real
paths, its merge with the rules on hand-written articles, and the rules-only fallback."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from stance.errors import InputError, ModelLoadError
from stance.quotes import KINDS, extract_quotes
from stance.quotes import pipeline as pipeline_module
from stance.quotes.pipeline import extract_quotes_many
from stance.quotes.tagger import (
    LABELS,
    AttributionTagger,
    TaggedSpan,
    TaggerEnsemble,
    decode,
    join_touching,
    load_default_tagger,
    load_tagger,
    piece_labels,
    tagger_status,
    windows,
)

# Hand-written PolNeAR-style articles: (text, [(role, phrase)...]) with one attribution each line.
ARTICLES = {
    "a1": (
        "Kazem Jalali met the press on Monday.\n\n"
        "He said the talks would resume in June.\n\n"
        "The ministry warned that prices will rise.",
        [
            ("Source", "He"),
            ("Cue", "said"),
            ("Content", "the talks would resume in June"),
            ("Source", "The ministry"),
            ("Cue", "warned"),
            ("Content", "prices will rise"),
        ],
    ),
    "a2": (
        "Anke Vogel spoke in Berlin.\n\nShe said the deal is good for Norway.",
        [("Source", "She"), ("Cue", "said"), ("Content", "the deal is good for Norway")],
    ),
}


def write_polnear(root: Path, split: str = "train") -> Path:
    """A PolNeAR folder in brat standoff with the hand-written articles."""
    for sub in ("text", "attributions"):
        (root / split / sub).mkdir(parents=True, exist_ok=True)
    for stem, (text, roles) in ARTICLES.items():
        (root / split / "text" / f"{stem}.txt").write_text(text, encoding="utf-8")
        lines: list[str] = []
        event: dict[str, str] = {}
        n_event = 0
        for n, (role, phrase) in enumerate(roles, 1):
            start = text.index(phrase)
            lines.append(f"T{n}\t{role} {start} {start + len(phrase)}\t{phrase}")
            event[role] = f"T{n}"
            if role == "Content":
                n_event += 1
                lines.append(
                    f"E{n_event}\tAttribution:{event['Cue']} Content:{event['Content']} "
                    f"Cue:{event['Cue']} Source:{event['Source']}"
                )
                event = {}
        (root / split / "attributions" / f"{stem}_4b22.ann").write_text("\n".join(lines) + "\n")
    return root


def test_the_tagger_configs_load_the_large_one_mpnet_by_the_clock_the_students_of_their_teachers():
    from training.attribution import load_attribution_config

    root = Path(__file__).resolve().parents[1] / "configs"
    small = load_attribution_config(root / "attribution.yaml")
    large = load_attribution_config(root / "attribution_large.yaml")
    student = load_attribution_config(root / "attribution_distill.yaml")
    assert (small.model.base, large.model.base, student.model.base) == ("minilm", "mpnet", "minilm")
    assert large.train.max_minutes > 0 and large.model.window == small.model.window
    assert student.distill.teacher == "models/attribution_large" and not small.distill.teacher
    assert student.model.window == large.model.window and student.model.overlap == large.model.overlap
    # attention dropout off where measured (runs A9, D4); the gold-only tagger keeps the base's
    assert large.model.attention_dropout == student.model.attention_dropout == 0
    assert small.model.attention_dropout == -1
    fast = load_attribution_config(root / "attribution_fast.yaml")
    assert (fast.model.base, fast.distill.teacher, fast.model.layers) == ("models/attribution",) * 2 + (3,)


def test_windows_cover_every_piece_and_share_the_overlap():
    assert windows(600, 256, 64) == [(0, 254), (190, 444), (380, 600)]
    assert windows(10, 256, 64) == [(0, 10)]
    assert windows(0, 256, 64) == [(0, 0)]


def test_bio_labels_decode_back_to_their_spans():
    offsets = [(0, 2), (3, 7), (8, 11), (12, 17), (18, 22)]
    spans = [("Source", 0, 2), ("Cue", 3, 7), ("Content", 8, 22)]
    labels = piece_labels(offsets, spans)
    assert [LABELS[i] for i in labels] == ["B-Source", "B-Cue", "B-Content", "I-Content", "I-Content"]
    probs = torch.nn.functional.one_hot(torch.tensor(labels), len(LABELS)).float()
    assert [(s.role, s.start, s.end) for s in decode(probs, offsets)] == spans


def test_decoding_keeps_a_content_whole_across_one_unsure_piece():
    offsets = [(0, 2), (3, 7), (8, 11), (12, 17), (18, 22), (23, 27)]
    rows = [
        {"B-Source": 0.9},
        {"B-Cue": 0.9},
        {"B-Content": 0.8},
        {"O": 0.45, "I-Content": 0.40},  # one piece in the middle leans to O
        {"I-Content": 0.8},
        {"I-Source": 0.6, "O": 0.4},  # an I- of another role cannot continue a Content
    ]
    probs = torch.full((len(rows), len(LABELS)), 0.01)
    for i, row in enumerate(rows):
        for label, p in row.items():
            probs[i, LABELS.index(label)] = p
    assert [(s.role, s.start, s.end) for s in decode(probs, offsets, greedy=True)] == [
        ("Source", 0, 2),
        ("Cue", 3, 7),
        ("Content", 8, 11),
        ("Content", 18, 22),
        ("Source", 23, 27),
    ]
    assert [(s.role, s.start, s.end) for s in decode(probs, offsets)] == [
        ("Source", 0, 2),
        ("Cue", 3, 7),
        ("Content", 8, 22),
    ]
    assert decode(probs[:0], []) == []


def test_best_tags_is_the_most_probable_valid_bio_path():
    """Against every tag sequence of up to four pieces: the best valid BIO path, first on ties."""
    import itertools
    import math

    from stance.quotes.tagger import LABELS, best_tags

    def valid(path: tuple[int, ...]) -> bool:
        before = "O"
        for tag in (LABELS[t] for t in path):
            if tag.startswith("I-") and before[2:] != tag[2:]:
                return False
            before = tag
        return True

    def score(logp: list[list[float]], path) -> float:
        return sum(logp[i][t] for i, t in enumerate(path))

    g = torch.Generator().manual_seed(3)
    cases = [torch.softmax(torch.randn(n, len(LABELS), generator=g) * 2, -1) for n in (1, 2, 3, 4, 4, 4)]
    cases.append(torch.full((3, len(LABELS)), 1 / len(LABELS)))  # all ties: the first valid path
    for probs in cases:
        logp = torch.log(probs.double()).tolist()
        paths = [p for p in itertools.product(range(len(LABELS)), repeat=len(logp)) if valid(p)]
        found = best_tags(probs)
        assert valid(tuple(found))
        assert math.isclose(score(logp, found), max(score(logp, p) for p in paths), abs_tol=1e-6)
    assert best_tags(cases[-1]) == [0, 0, 0]


@pytest.fixture(scope="module")
def tiny_tagger(tiny_base, tmp_path_factory) -> Path:
    """A tagger trained for a few seconds on the two articles, written by the real training path."""
    from training.attribution import load_attribution_config, train_attribution

    root = write_polnear(tmp_path_factory.mktemp("polnear"))
    write_polnear(root, "dev")
    config = load_attribution_config("configs/attribution.yaml", tiny_tagger_overrides(root, tiny_base))
    return train_attribution(config, tmp_path_factory.mktemp("tagger") / "attribution")


def tiny_tagger_overrides(polnear: Path, tiny_base: Path, more: dict | None = None) -> dict[str, str]:
    """A few seconds of tagger training on the hand-written articles, plus ``more`` dotted keys."""
    return {
        "data.path": str(polnear),
        "model.base": str(tiny_base),
        "model.window": "48",
        "model.overlap": "8",
        "train.lr": "3e-3",
        "train.max_steps": "150",
        "train.max_minutes": "0",
        "train.batch_size": "4",
        "train.warmup_ratio": "0",
        "train.save_steps": "1000",
        **(more or {}),
    }


def test_the_tiny_tagger_learns_its_articles_and_writes_a_complete_folder(tiny_tagger):
    tagger = AttributionTagger.from_pretrained(tiny_tagger)
    text, roles = ARTICLES["a2"]
    found = {(s.role, text[s.start : s.end]) for s in tagger.tag(text)}
    assert ("Content", "the deal is good for norway") in {(r, t.lower()) for r, t in found}
    assert {(r, p) for r, p in roles if r == "Source"} <= found
    for name in ("checksums.json", "README.md", "eval_results.json", "resolved_config.yaml"):
        assert (tiny_tagger / name).is_file()
    assert "| polnear:dev | content |" in (tiny_tagger / "README.md").read_text()


def test_python_m_training_trains_a_tagger_from_an_attribution_config(tiny_base, tmp_path):
    """``torchrun -m training train`` dispatches on ``task: attribution`` as ``stance train`` does."""
    from training.__main__ import main

    root = write_polnear(tmp_path / "polnear")
    out = tmp_path / "tagger"
    code = main(
        ["train", "configs/attribution.yaml", "-o", str(out), "--no-eval", "--data.path", str(root)]
        + ["--model.base", str(tiny_base), "--model.window", "48", "--model.overlap", "8"]
        + ["--train.max_steps", "2", "--train.max_minutes", "0", "--train.batch_size", "4"]
        + ["--model.attention_dropout", "0"]
    )
    assert code == 0
    assert AttributionTagger.from_pretrained(out).tag("He said so.") is not None
    # model.attention_dropout reached the encoder (the tiny base's own is 0.1)
    assert json.loads((out / "config.json").read_text())["attention_probs_dropout_prob"] == 0


def test_batching_and_a_second_load_give_the_same_spans(tiny_tagger):
    texts = [ARTICLES["a1"][0], ARTICLES["a2"][0], ARTICLES["a1"][0] * 3]
    first = AttributionTagger.from_pretrained(tiny_tagger, precision="fp32")
    again = AttributionTagger.from_pretrained(tiny_tagger, precision="fp32")
    one_by_one = [first.tag_many([t], batch_size=1)[0] for t in texts]

    def same(a: list[list[TaggedSpan]], b: list[list[TaggedSpan]]) -> bool:
        # padding a batch changes float sums in the last bits, never a span
        return [[(s.role, s.start, s.end) for s in x] for x in a] == [
            [(s.role, s.start, s.end) for s in x] for x in b
        ] and all(
            abs(s.prob - t.prob) < 1e-4 for x, y in zip(a, b, strict=True) for s, t in zip(x, y, strict=True)
        )

    assert one_by_one[0] and same(first.tag_many(texts, batch_size=8), one_by_one)
    assert same(again.tag_many(texts, batch_size=8), one_by_one)
    assert same(again.tag_many(texts, batch_size=2, show_progress=True), one_by_one)


def test_a_bf16_tagger_holds_bf16_weights_and_reads_what_fp32_reads(tiny_tagger):
    """bf16 loads the weights in bf16 (not autocast alone); probabilities stay fp32 and near fp32's."""
    import torch

    exact = AttributionTagger.from_pretrained(tiny_tagger, precision="fp32")
    fast = AttributionTagger.from_pretrained(tiny_tagger, precision="bf16")
    assert {p.dtype for p in exact.model.parameters()} == {torch.float32}
    assert {p.dtype for p in fast.model.parameters()} == {torch.bfloat16}
    text = ARTICLES["a2"][0]
    (p32, offsets), (p16, offsets16) = exact.probabilities([text])[0], fast.probabilities([text])[0]
    assert p16.dtype == torch.float32 and offsets16 == offsets
    assert torch.allclose(p16.sum(-1), torch.ones(len(offsets)), atol=1e-5)
    assert (p16 - p32).abs().max() < 0.1
    assert (p16.argmax(-1) == p32.argmax(-1)).float().mean() > 0.9


def test_an_ensemble_folder_reads_like_one_tagger_from_every_entry_point(tiny_tagger, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from stance_cli import app

    folder = tmp_path / "ensemble"
    made = CliRunner().invoke(app, ["tagger-ensemble", str(tiny_tagger), str(tiny_tagger), "-o", str(folder)])
    assert made.exit_code == 0, made.output
    ensemble = load_tagger(folder)
    assert isinstance(ensemble, TaggerEnsemble) and ensemble.weights == [0.5, 0.5]
    single = AttributionTagger.from_pretrained(tiny_tagger)
    texts = [ARTICLES["a1"][0], ARTICLES["a2"][0]]
    # the mean of one tagger's probabilities with themselves is that tagger
    same = [[(s.role, s.start, s.end) for s in spans] for spans in single.tag_many(texts)]
    assert [[(s.role, s.start, s.end) for s in spans] for spans in ensemble.tag_many(texts)] == same
    monkeypatch.setenv("STANCE_TAGGER_PATH", str(folder))
    assert isinstance(load_default_tagger(), TaggerEnsemble) and "ensemble" in tagger_status()
    root = write_polnear(tmp_path / "polnear", "dev")
    scored = CliRunner().invoke(app, ["evaluate-quotes", str(root), "--split", "dev", "--model", str(folder)])
    assert scored.exit_code == 0, scored.output


class _Probs:
    """A member that returns fixed probabilities and offsets (what an ensemble reads of a tagger)."""

    name = "fixed"
    precision = "fp32"

    def __init__(self, probs: list[list[float]], offsets: list[tuple[int, int]]) -> None:
        self.probs, self.offsets = torch.tensor(probs), offsets

    def probabilities(self, texts, batch_size=16, show_progress=False):
        return [(self.probs, self.offsets) for _ in texts]


def test_an_ensemble_weighs_its_members_and_refuses_what_does_not_fit(tiny_tagger, tiny_model, tmp_path):
    sure_source = [[0.1, 0.9, 0, 0, 0, 0, 0]]  # B-Source
    sure_content = [[0.1, 0, 0, 0, 0, 0.9, 0]]  # B-Content
    members = [_Probs(sure_source, [(0, 2)]), _Probs(sure_content, [(0, 2)])]
    leaning = TaggerEnsemble(members, [3, 1])  # type: ignore[list-item]
    assert leaning.weights == [0.75, 0.25] and leaning.tag("He")[0].role == "Source"
    assert TaggerEnsemble(members, [1, 3]).tag("He")[0].role == "Content"  # type: ignore[list-item]
    with pytest.raises(ModelLoadError, match="different word pieces"):
        TaggerEnsemble([members[0], _Probs(sure_content, [(0, 1)])]).tag("He")  # type: ignore[list-item]
    with pytest.raises(InputError, match="at least two"):
        TaggerEnsemble(members[:1])  # type: ignore[list-item]
    with pytest.raises(InputError, match="positive"):
        TaggerEnsemble(members, [1, 0])  # type: ignore[list-item]
    from stance.quotes.tagger import write_ensemble

    with pytest.raises(ModelLoadError, match="not an attribution tagger"):
        write_ensemble([tiny_tagger, tiny_model], None, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    folder = write_ensemble([tiny_tagger, tiny_tagger], [2, 1], tmp_path / "ok")
    (folder / "ensemble.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not a readable ensemble"):
        load_tagger(folder)


def test_a_stance_model_or_altered_weights_are_refused_as_tagger(tiny_tagger, tiny_model, tmp_path):
    with pytest.raises(ModelLoadError, match="not an attribution tagger"):
        AttributionTagger.from_pretrained(tiny_model)
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_tagger, broken)
    with open(broken / "model.safetensors", "r+b") as handle:
        handle.seek(-8, 2)
        handle.write(b"\0" * 8)
    with pytest.raises(ModelLoadError):
        AttributionTagger.from_pretrained(broken)


class FakeTagger:
    """Spans given by phrase, as a trained tagger would return them."""

    name = "fake"

    def __init__(self, spans: list[tuple[str, str, float]]) -> None:
        self.spans = spans

    def tag_many(self, texts, batch_size=16):
        return [self.tag(t) for t in texts]

    def tag(self, text: str) -> list[TaggedSpan]:
        out = []
        for role, phrase, prob in self.spans:
            start = text.index(phrase)
            out.append(TaggedSpan(role, start, start + len(phrase), prob))  # type: ignore[arg-type]
        return sorted(out, key=lambda s: s.start)


ARTICLE = (
    "Kazem Jalali, the head of the committee, arrived in Moscow on Monday.\n\n"
    "“We will not sign,” Jalali told reporters.\n\n"
    "He said the sanctions had failed and would be lifted.\n\n"
    "“It is over.” The minister smiled.\n\n"
    "Critics called it a “historic” mistake."
)
SPANS = [
    ("Content", "We will not sign,", 0.95),
    ("Source", "reporters", 0.6),
    ("Source", "He", 0.9),
    ("Cue", "said", 0.9),
    ("Content", "the sanctions had failed and would be lifted", 0.85),
    ("Content", "It is over.", 0.8),
    ("Source", "The minister", 0.7),
    ("Source", "Critics", 0.9),
    ("Content", "it a “historic” mistake", 0.7),
]


def test_a_rules_mention_inside_a_tagged_source_is_reported_as_that_source(monkeypatch):
    # the rules name the speaker of the second quotation from the one before ("Rep. Jim Clyburn");
    # PolNeAR's Source, which the tagger tags, is the whole noun phrase: the mention widens to it,
    # the speaker and the rule stay
    text = (
        "“We are ready,” said Rep. Jim Clyburn (D-S.C.), the assistant leader of the caucus.\n\n"
        "“We will vote.”"
    )
    source = "Rep. Jim Clyburn (D-S.C.), the assistant leader of the caucus"
    tagger = FakeTagger([("Source", source, 0.9), ("Content", "We are ready,", 0.9)])
    found = {q.text: q for q in extract_quotes(text, kinds="direct", tagger=tagger)}
    for quote in ("We are ready,", "We will vote."):
        q = found[quote]
        assert q.speaker == "Jim Clyburn" and q.speaker_mention == source
        assert text[q.speaker_start : q.speaker_end] == source
    assert found["We will vote."].rule == "previous_speaker"
    monkeypatch.setattr(pipeline_module, "WIDEN_TO_TAGGED_SOURCE", False)
    narrow = {q.text: q for q in extract_quotes(text, kinds="direct", tagger=tagger)}
    assert narrow["We will vote."].speaker_mention == "Rep. Jim Clyburn"
    # without a tagger the rules' mention stands
    assert extract_quotes(text, kinds="direct")[1].speaker_mention == "Rep. Jim Clyburn"


def test_a_mention_is_not_widened_to_a_source_that_runs_into_a_cue_or_from_a_pronoun():
    # a Source the tagger ran on past its cue names two people: the rules' mention stays
    text = "“We will win,” Trump said, and Clinton’s aide agreed."
    run_on = FakeTagger([("Source", "Trump said, and Clinton’s aide", 0.9), ("Cue", "said", 0.9)])
    (q,) = extract_quotes(text, kinds="direct", tagger=run_on)
    assert q.speaker == "Trump" and q.speaker_mention == "Trump"
    # a pronoun with a clitic is the pronoun, not the whole word the tagger tagged
    text = "Trump railed on Monday. But he’s said the deal was a disaster for the country."
    content = "the deal was a disaster for the country"
    tagger = FakeTagger([("Source", "he’s", 0.9), ("Cue", "said", 0.9), ("Content", content, 0.9)])
    (q,) = extract_quotes(text, kinds="indirect", tagger=tagger)
    assert q.speaker_mention == "he" and q.text.startswith("the deal")


def test_the_tagger_adds_reported_speech_and_the_rules_keep_direct_quotes(monkeypatch):
    monkeypatch.setattr(pipeline_module, "SOURCE_POLICY", "fill")
    found = extract_quotes(ARTICLE, kinds="direct,mixed,indirect", tagger=FakeTagger(SPANS))
    by_text = {q.text: q for q in found}
    direct = by_text["We will not sign,"]
    assert direct.kind == "direct" and direct.speaker == "Kazem Jalali" and direct.rule == "x_said"
    reported = by_text["the sanctions had failed and would be lifted"]
    assert reported.kind == "indirect" and reported.speaker == "Kazem Jalali"
    assert reported.speaker_mention == "He" and reported.rule == "tagger:0.90" and reported.cue == "said"
    assert ARTICLE[reported.speaker_start : reported.speaker_end] == "He"
    assert reported.sentence_start <= reported.start < reported.end <= reported.sentence_end
    # under the shipped policy the tagger's source wins where both name one
    monkeypatch.setattr(pipeline_module, "SOURCE_POLICY", "tagger")
    again = {q.text: q for q in extract_quotes(ARTICLE, tagger=FakeTagger(SPANS))}
    assert again["We will not sign,"].speaker_mention == "reporters"
    assert again["We will not sign,"].rule == "tagger:0.60"


NICKNAMED = (
    "Hillary Clinton spoke in Toledo.\n\n"
    "Clinton says the Ohio native nicknamed “King James” is a longtime advocate for children."
)
NICKNAMED_CONTENT = "the Ohio native nicknamed “King James” is a longtime advocate for children"


def test_a_content_holding_scare_quotes_is_a_reported_statement(monkeypatch):
    # the rules drop “King James” as a nickname; the statement around it is still Clinton's
    spans = [("Source", "Clinton", 0.9), ("Content", NICKNAMED_CONTENT, 0.9)]
    assert extract_quotes(NICKNAMED, kinds=KINDS) == []
    (q,) = extract_quotes(NICKNAMED, kinds=KINDS, tagger=_SecondMention(spans))
    assert (q.kind, q.text, q.speaker) == ("indirect", NICKNAMED_CONTENT, "Hillary Clinton")
    # a content that is only the dropped quotation, or a stray mark, is no statement
    for only in ("“King James”", "“"):
        tagger = _SecondMention([spans[0], ("Content", only, 0.9)])
        assert extract_quotes(NICKNAMED, kinds=KINDS, tagger=tagger) == []
    # the choice before session 23: every content with marks no kept quotation covers left out
    monkeypatch.setattr(pipeline_module, "REPORT_MARKED_CONTENTS", False)
    assert extract_quotes(NICKNAMED, kinds=KINDS, tagger=_SecondMention(spans)) == []


class _SecondMention(FakeTagger):
    """:class:`FakeTagger` with the Source on "Clinton" of "Clinton says", not the first "Clinton"."""

    def tag(self, text: str) -> list[TaggedSpan]:
        at = text.index("Clinton says")
        return [
            TaggedSpan("Source", at, at + 7, s.prob) if s.role == "Source" else s for s in super().tag(text)
        ]


BYLINES = "Readers wrote to us.\n\n“He is a disgrace.” ― Sonya Herridge\n“He will win.” ― Pamela Padilla\n"
# the tagger's failure on PolNeAR dev: each quote takes the byline of the quote before it
BYLINE_SPANS = [
    ("Content", "He is a disgrace.", 0.95),
    ("Content", "He will win.", 0.95),
    ("Source", "Sonya Herridge", 0.9),
]


def test_a_byline_after_the_quote_keeps_its_speaker_whatever_the_tagger_proposes(monkeypatch):
    monkeypatch.setattr(pipeline_module, "SOURCE_POLICY", "tagger")
    found = {q.text: q for q in extract_quotes(BYLINES, tagger=FakeTagger(BYLINE_SPANS))}
    assert found["He will win."].speaker == "Pamela Padilla" and found["He will win."].rule == "dash_byline"
    assert found["He is a disgrace."].speaker == "Sonya Herridge"
    # without the kept rule the tagger's source would win, which is the error the rule prevents
    monkeypatch.setattr(pipeline_module, "RULES_KEEP", frozenset())
    found = {q.text: q for q in extract_quotes(BYLINES, tagger=FakeTagger(BYLINE_SPANS))}
    assert found["He will win."].speaker == "Sonya Herridge"


NAMED_AND_MIXED = (
    "Sergei Lavrov arrived in Tehran on Monday.\n\n"
    "Lavrov said the deal was “a disaster for everyone” and had to change.\n\n"
    "The accord, known as the JCPOA, was signed in 2015."
)
NAMED_AND_MIXED_SPANS = [
    ("Source", "Lavrov", 0.95),
    ("Cue", "said", 0.95),
    ("Content", "the deal was “a disaster for everyone” and had to change", 0.9),
    ("Cue", "known as", 0.9),
    ("Content", "the JCPOA", 0.9),
]


def test_a_mixed_quote_carries_its_tagged_statement_and_a_naming_phrase_is_no_statement():
    found = extract_quotes(NAMED_AND_MIXED, kinds=KINDS, tagger=FakeTagger(NAMED_AND_MIXED_SPANS))
    mixed = [q for q in found if q.kind == "mixed"]
    assert [q.text for q in mixed] == ["a disaster for everyone"]
    statement = NAMED_AND_MIXED[mixed[0].statement_start : mixed[0].statement_end]
    assert statement == "the deal was “a disaster for everyone” and had to change"
    assert not any("JCPOA" in q.text for q in found)  # "known as" names the accord; nobody said it
    rules_only = extract_quotes(NAMED_AND_MIXED, kinds=("direct", "mixed"))
    assert all(q.statement_start is None for q in rules_only)
    # the tagger may mark "known" alone as the cue, "as" between it and the content (the large
    # tagger did on the client's article): still a name, not a statement
    known = [span if span[1] != "known as" else ("Cue", "known", 0.9) for span in NAMED_AND_MIXED_SPANS]
    found = extract_quotes(NAMED_AND_MIXED, kinds=KINDS, tagger=FakeTagger(known))
    assert not any("JCPOA" in q.text for q in found)
    # or "as" alone, "known" before it
    found = extract_quotes(NAMED_AND_MIXED, kinds=KINDS, tagger=_AsOnly(NAMED_AND_MIXED_SPANS))
    assert not any("JCPOA" in q.text for q in found)
    # while "seen as" names nothing: its content stays a statement
    assert any(
        "JCPOA" in q.text
        for q in extract_quotes(
            NAMED_AND_MIXED.replace("known as", "seen as"),
            kinds=KINDS,
            tagger=_AsOnly(
                [s if s[1] != "known as" else ("Cue", "seen as", 0.9) for s in NAMED_AND_MIXED_SPANS]
            ),
        )
    )


class _AsOnly(FakeTagger):
    """:class:`FakeTagger` that marks only the last word of a two-word cue."""

    def tag(self, text: str) -> list[TaggedSpan]:
        return [
            replace(s, start=text.index(" ", s.start) + 1)
            if s.role == "Cue" and " " in text[s.start : s.end]
            else s
            for s in super().tag(text)
        ]


def test_a_content_the_tagger_is_unsure_of_is_left_out():
    unsure = [("Source", "He", 0.9), ("Content", "the sanctions had failed and would be lifted", 0.5)]
    assert extract_quotes(ARTICLE, kinds="indirect", tagger=FakeTagger(unsure)) == []


def test_the_tagger_names_the_speaker_the_rules_could_not(monkeypatch):
    rules_only = {q.text: q for q in extract_quotes(ARTICLE)}
    assert rules_only["It is over."].speaker is None
    monkeypatch.setattr(pipeline_module, "SOURCE_POLICY", "fill")
    found = {q.text: q for q in extract_quotes(ARTICLE, tagger=FakeTagger(SPANS))}
    assert (
        found["It is over."].speaker_mention == "The minister" and found["It is over."].rule == "tagger:0.70"
    )
    assert found["We will not sign,"].speaker == "Kazem Jalali"  # "fill": the rules' speaker stays
    monkeypatch.setattr(pipeline_module, "SOURCE_POLICY", "tagger")
    found = {q.text: q for q in extract_quotes(ARTICLE, tagger=FakeTagger(SPANS))}
    assert found["We will not sign,"].speaker_mention == "reporters"


def test_kinds_keep_their_meaning_with_a_tagger():
    found = extract_quotes(ARTICLE, tagger=FakeTagger(SPANS))
    assert {q.kind for q in found} <= {"direct", "mixed"}
    only = extract_quotes(ARTICLE, kinds="indirect", tagger=FakeTagger(SPANS))
    assert [q.text for q in only] == ["the sanctions had failed and would be lifted"]
    many = extract_quotes_many([ARTICLE, "No quotes here."], "direct,indirect", tagger=FakeTagger(SPANS[:0]))
    assert many[1] == [] and [q.kind for q in many[0]] == ["direct", "direct"]


def test_analyze_reads_the_article_with_the_configured_tagger(monkeypatch):
    """``analyze`` and ``/v1/analyze`` find quotes as ``stance quotes`` and ``/v1/quotes`` do."""
    from stance import analysis
    from stance.quotes import tagger as tagger_module

    monkeypatch.setattr(tagger_module, "shared_tagger", lambda: FakeTagger(SPANS))
    found = {q.text: q for q, _context in analysis.quotes_with_context(ARTICLE)}
    reported = found["the sanctions had failed and would be lifted"]
    assert reported.rule == "tagger:0.90" and reported.speaker == "Kazem Jalali"
    monkeypatch.setattr(tagger_module, "shared_tagger", lambda: None)
    rules = [q for q, _context in analysis.quotes_with_context(ARTICLE, kinds="direct,mixed")]
    assert rules == extract_quotes(ARTICLE, kinds="direct,mixed")


def test_without_a_tagger_nothing_changes_and_none_is_loaded(monkeypatch, tmp_path):
    rules = extract_quotes(ARTICLE, kinds="direct,mixed")
    assert extract_quotes(ARTICLE, kinds="direct,mixed", tagger=None) == rules
    assert extract_quotes_many([ARTICLE], "direct,mixed") == [rules]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STANCE_TAGGER_PATH", raising=False)
    assert load_default_tagger() is None
    monkeypatch.setenv("STANCE_TAGGER_PATH", "")
    assert load_default_tagger() is None
    monkeypatch.setenv("STANCE_TAGGER_PATH", str(tmp_path / "missing"))
    with pytest.raises(ModelLoadError, match="STANCE_TAGGER_PATH"):
        load_default_tagger()


def test_evaluate_quotes_scores_the_tagger_and_the_pipeline(tiny_tagger, tmp_path):
    from training.quotes_eval import evaluate_quotes

    root = write_polnear(tmp_path / "polnear", "dev")
    tagger = AttributionTagger.from_pretrained(tiny_tagger)
    result = evaluate_quotes(root, "dev", tagger=tagger)
    assert result["tagger"] == "attribution" and result["indirect_gold"] == 3
    for section in ("all_attributions", "tagger_spans"):
        assert {"source", "cue", "content"} <= set(result[section])
        assert 0.0 <= result[section]["content"]["exact_f1"] <= 1.0
    assert result["tagger_spans"]["content"]["gold"] == 3
    rules = evaluate_quotes(root, "dev")
    assert rules["tagger"] is None and "tagger_spans" not in rules


def test_the_evaluate_quotes_command_scores_a_tagger_and_says_when_polnear_is_missing(tiny_tagger, tmp_path):
    from typer.testing import CliRunner

    from stance_cli import app

    root = write_polnear(tmp_path / "polnear", "dev")
    out = tmp_path / "scores.json"
    args = ["evaluate-quotes", str(root), "--split", "dev", "--model", str(tiny_tagger), "--output", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["tagger"] == "attribution"
    missing = CliRunner().invoke(app, ["evaluate-quotes", str(tmp_path / "nowhere"), "--split", "dev"])
    assert missing.exit_code == 3 and "error:" in missing.output


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "attributions/a1_4b22.ann",
            "T9\tSource 0 x\tHe\n",
            r"a1_4b22.ann:9: Source expects character offsets",
        ),
        ("attributions/a1_4b22.ann", "T9\tCue 5 9999\tsaid\n", r"a1_4b22.ann:9: Cue span 5-9999 is outside"),
        ("attributions/a1_4b22.ann", "E9\tAttribution T1\n", r"a1_4b22.ann:9: an event argument without"),
        ("attributions/a1_4b22.ann", b"T9\tSource 0 2\tcaf\xe9\n", r"a1_4b22.ann: not valid UTF-8"),
        ("text/a2.txt", b"caf\xe9", r"a2.txt: not valid UTF-8"),
    ],
)
def test_a_malformed_polnear_file_is_a_data_error_naming_file_and_line(tmp_path, file, content, message):
    from typer.testing import CliRunner

    from stance.errors import DataError
    from stance_cli import app
    from training.polnear import load_polnear

    root = write_polnear(tmp_path / "polnear", "dev")
    path = root / "dev" / file
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(path.read_text() + content)
    with pytest.raises(DataError, match=message):
        list(load_polnear("dev", root))
    result = CliRunner().invoke(app, ["evaluate-quotes", str(root), "--split", "dev"])
    assert result.exit_code == 2 and "error:" in result.output, (result.output, result.exception)


def _name(phrase: str, known: str = "") -> str | None:
    """:func:`source_name` of ``phrase`` (read as the tagger's source) after a sentence ``known``."""
    from stance.quotes.entities import Entities, collect_names, note_subjects
    from stance.quotes.mentions import Mention
    from stance.quotes.tagged import source_name
    from stance.quotes.text import tokenize

    ents = Entities()
    known_tokens = tokenize(known, 0, len(known))
    collect_names(known_tokens, ents)
    note_subjects(known_tokens, ents)
    text = f"{known} {phrase}"
    start = len(known) + 1
    return source_name(Mention(tuple(tokenize(text, start, len(text))), "nominal"), ents)


@pytest.mark.parametrize(
    ("phrase", "known", "name"),
    [
        # the client's article: an appositive and a pair were read as "JCPOA" and "Russia"
        ("Russia, a signatory to the JCPOA,", "", "Russia"),
        ("Iran and Russia", "", "Iran and Russia"),
        (
            "Amir-Abdollahian and Lavrov",
            "Hossein Amir-Abdollahian met Sergei Lavrov.",
            "Hossein Amir-Abdollahian and Sergei Lavrov",
        ),
        ("Regulators and environmental groups", "", None),  # a pair that names nobody
        ("the envoy, Kazem Jalali,", "", "Kazem Jalali"),  # the name, not the role before it
        ("Iran’s Ambassador to Moscow Kazem Jalali", "", "Kazem Jalali"),
        ("Lavrov", "Foreign Minister Sergei Lavrov spoke.", "Sergei Lavrov"),
        ("he", "Foreign Minister Sergei Lavrov spoke.", "Sergei Lavrov"),
        ("they", "", None),
    ],
)
def test_a_tagged_source_is_named_by_its_head(phrase, known, name):
    assert _name(phrase, known) == name


CLIENT_LIKE = (
    "Iran's Foreign Minister Hossein Amir-Abdollahian met Foreign Minister Sergei Lavrov in Moscow.\n\n"
    "Amir-Abdollahian told reporters that the talks would resume soon.\n\n"
    "“We are confident,” Lavrov said.\n\n"
    "The deal must be revived to restore trust.\n\n"
    "Russia, a signatory to the JCPOA, has supported Iran’s right to nuclear energy.\n\n"
    "He said the visit was a success."
)
# spans as the trained tagger gave them on the client's article: an appositive source, and a
# content whose source it did not tag
TAGGED = [
    ("Content", "the talks would resume soon", 0.9),
    ("Source", "Russia, a signatory to the JCPOA,", 0.94),
    ("Cue", "has supported", 0.93),
    ("Content", "Iran’s right to nuclear energy", 0.93),
    ("Content", "We are confident,", 0.95),
    ("Source", "Lavrov", 0.97),
    ("Content", "must be revived to restore trust", 0.8),
    ("Source", "He", 0.9),
    ("Content", "the visit was a success", 0.9),
]


def test_sources_are_named_by_their_head_and_the_rules_fill_a_missing_one():
    found = {q.text: q for q in extract_quotes(CLIENT_LIKE, KINDS, tagger=FakeTagger(TAGGED))}
    # the appositive stays in the mention (PolNeAR's Source span) but names Russia, not the JCPOA
    russia = found["Iran’s right to nuclear energy"]
    assert russia.speaker == "Russia" and russia.speaker_mention == "Russia, a signatory to the JCPOA,"
    assert russia.rule == "tagger:0.94"
    # no tagged source: the sentence rules name the speaker, and the quote says which rule did
    told = found["the talks would resume soon"]
    assert told.kind == "indirect" and told.speaker == "Hossein Amir-Abdollahian"
    assert told.speaker_mention == "Amir-Abdollahian" and told.rule == "x_said" and told.cue == "told"
    # no source and no cue: nobody, rather than the subject of the sentence ("The deal")
    revived = found["must be revived to restore trust"]
    assert revived.speaker is None and revived.speaker_mention is None and revived.rule == "tagger:0.80"
    assert found["We are confident,"].speaker == "Sergei Lavrov"
    # neither the JCPOA nor Russia was registered as a person, so "he" finds the last man who spoke
    assert found["the visit was a success"].speaker == "Sergei Lavrov"
    assert not any(q.speaker == "JCPOA" for q in found.values())


@pytest.mark.parametrize(
    ("text", "start", "end", "mention", "kind"),
    [
        # the tagger reads word pieces: its "he" is the pronoun of the token "he’s", and a span
        # that cuts the token elsewhere reads it too
        ("Trump railed, but he’s sought breaks.", 18, 20, "he", "pronoun"),
        ("Trump railed, but he’s sought breaks.", 19, 21, "he", "pronoun"),
        ("Trump railed, but he’s sought breaks.", 19, 23, "he", "pronoun"),
        # any clitic: she'd, they’re, we've
        ("Clinton said she'd win.", 14, 17, "she", "pronoun"),
        ("Aides said they’re ready.", 11, 15, "they", "pronoun"),
        ("Aides said we've won.", 11, 13, "we", "pronoun"),
        # a zero-width span inside a word names nothing
        ("Trump railed.", 3, 3, None, None),
        # a span that cuts a word takes the whole word
        ("He was a rough-hewed candidate.", 15, 20, "rough-hewed", "nominal"),
        ("Senator Jeff Merkley spoke.", 8, 20, "Jeff Merkley", "name"),
        ("Trump railed.", 5, 5, None, None),
    ],
)
def test_a_tagged_span_that_cuts_a_token_is_read_as_the_whole_token(text, start, end, mention, kind):
    from stance.quotes.reported import mention_in
    from stance.quotes.text import tokenize

    found = mention_in(tokenize(text, 0, len(text)), start, end)
    assert (found and text[found.start : found.end], found and found.kind) == (mention, kind)


def test_plural_titles_end_no_sentence():
    from stance.quotes.text import Regions, sentence_bounds

    text = "Stumpf spoke. Sens. Jeff Merkley and Sherrod Brown suggested a case. Reps. Ann Lee agreed."
    bounds = [text[a:b].strip() for a, b in sentence_bounds(text, 0, len(text), Regions([]))]
    assert bounds == [
        "Stumpf spoke.",
        "Sens. Jeff Merkley and Sherrod Brown suggested a case.",
        "Reps. Ann Lee agreed.",
    ]


CLITIC_AND_PLURAL_TITLE = (
    "Donald Trump spoke in Ohio on Monday.\n\n"
    "While Trump railed at loopholes, he’s sought to protect breaks for real estate.\n\n"
    "Sens. Jeff Merkley and Sherrod Brown suggested that the claims could be grounds for a case."
)


def test_a_tagged_pronoun_with_a_clitic_and_a_source_after_a_plural_title_name_their_speakers():
    # before: "he" of "he’s" made no mention, and "Sens." ended a sentence, leaving the source
    # outside its content's sentence: both statements had no speaker
    spans = [
        ("Source", "he", 0.9),
        ("Cue", "sought", 0.9),
        ("Content", "to protect breaks for real estate", 0.9),
        ("Source", "Sens. Jeff Merkley and Sherrod Brown", 0.9),
        ("Cue", "suggested", 0.9),
        ("Content", "that the claims could be grounds for a case", 0.9),
    ]
    found = {q.text: q for q in extract_quotes(CLITIC_AND_PLURAL_TITLE, KINDS, tagger=FakeTagger(spans))}
    breaks = found["to protect breaks for real estate"]
    assert breaks.speaker_mention == "he" and breaks.speaker == "Donald Trump"
    case = found["that the claims could be grounds for a case"]
    assert case.speaker_mention == "Sens. Jeff Merkley and Sherrod Brown"
    assert case.speaker == "Jeff Merkley and Sherrod Brown"


def test_a_student_tagger_learns_from_a_teacher_and_unannotated_news(
    tiny_tagger, tiny_base, tmp_path, monkeypatch
):
    """distill.teacher: soft targets from the teacher (cached), FNC-1 bodies read by the teacher alone."""
    from training.attribution import load_attribution_config, train_attribution
    from training.tagger_distill import FNC1_BODIES

    data = tmp_path / "data"
    (data / FNC1_BODIES).parent.mkdir(parents=True)
    body = ("The ministry warned that prices will rise. " * 12).strip()
    (data / FNC1_BODIES).write_text(
        f'Body ID,articleBody\n1,"{body}"\n2,"too short to tag"\n3,"{body}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("STANCE_DATA_DIR", str(data))
    root = write_polnear(tmp_path / "polnear")
    write_polnear(root, "dev")
    distill = {"distill.teacher": str(tiny_tagger), "distill.hard_weight": "0.5", "distill.news_bodies": "-1"}
    overrides = tiny_tagger_overrides(root, tiny_base, distill)
    out = train_attribution(load_attribution_config("configs/attribution.yaml", overrides), tmp_path / "s")
    results = json.loads((out / "train_results.json").read_text())
    assert results["distill"]["news_bodies"] == 1  # one distinct body long enough
    assert results["train_windows"] == results["distill"]["windows"] > 2
    assert "Distilled from" in (out / "README.md").read_text()
    text, _ = ARTICLES["a2"]
    found = {
        (s.role, text[s.start : s.end].lower()) for s in AttributionTagger.from_pretrained(out).tag(text)
    }
    assert ("Content", "the deal is good for norway") in found
    # the teacher's reading is cached for the next student
    assert list((Path(os.environ["STANCE_CACHE_DIR"]) / "tagger_teacher").glob("*.pt"))


def test_soft_targets_mix_gold_and_teacher_and_the_loss_ignores_edges():
    from types import SimpleNamespace

    from training.tagger_distill import soft_collator, soft_targets, soft_token_loss

    teacher = torch.full((3, len(LABELS)), 1 / len(LABELS))
    offsets = [(0, 2), (3, 7), (8, 12)]
    mixed = soft_targets(teacher, offsets, (("Source", 0, 2),), hard_weight=0.5)
    assert mixed.sum(-1).tolist() == pytest.approx([1, 1, 1])
    assert mixed[0, LABELS.index("B-Source")] == pytest.approx(0.5 + 0.5 / len(LABELS))
    assert torch.equal(soft_targets(teacher, offsets, None, 0.5), teacher)

    edge = [0.0] * len(LABELS)
    batch = soft_collator(pad_id=0)(
        [
            {"input_ids": [101, 5, 102], "labels": [edge, mixed[0].tolist(), edge]},
            {"input_ids": [101, 102], "labels": [edge, edge]},
        ]
    )
    assert batch["labels"].shape == (2, 3, len(LABELS)) and batch["attention_mask"].tolist() == [
        [1, 1, 1],
        [1, 1, 0],
    ]
    # the loss is the cross-entropy of the one scored piece, whatever the logits on the edges
    logits = torch.randn(2, 3, len(LABELS))
    loss = soft_token_loss(SimpleNamespace(logits=logits), batch["labels"])
    expected = -(mixed[0] * torch.log_softmax(logits[0, 1], -1)).sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_keep_layers_cuts_the_encoder_and_the_folder_loads_as_is(tiny_base, tmp_path):
    from transformers import AutoModelForTokenClassification

    from stance.errors import ConfigError
    from training.runs import keep_layers

    model = AutoModelForTokenClassification.from_pretrained(tiny_base, num_labels=len(LABELS))
    last = model.bert.encoder.layer[1]
    assert keep_layers(model, 1) == [0]
    model.save_pretrained(tmp_path / "cut")
    again = AutoModelForTokenClassification.from_pretrained(tmp_path / "cut")
    assert len(again.bert.encoder.layer) == again.config.num_hidden_layers == 1
    assert last not in list(model.bert.encoder.layer)
    with pytest.raises(ConfigError, match="model.layers=3; the base encoder has 1 layers"):
        keep_layers(model, 3)


def test_too_many_layers_are_refused_before_any_article_is_read(tiny_base, tmp_path):
    # the PolNeAR folder does not exist: the layer count is refused first (a ConfigError, not the
    # DataError of the missing articles, nor minutes of a teacher's reading)
    from stance.errors import ConfigError
    from training.attribution import load_attribution_config, train_attribution

    more = {"model.layers": "3"}
    config = load_attribution_config(
        "configs/attribution.yaml", tiny_tagger_overrides(tmp_path / "missing", tiny_base, more)
    )
    with pytest.raises(ConfigError, match="model.layers=3; the base encoder has 2 layers"):
        train_attribution(config, tmp_path / "too_many")


def test_a_transcript_turn_replaces_the_taggers_reading_and_keeps_a_statement_inside_it():
    text = (
        "Gov. Mary Fallin spoke.\n\nJAKE TAPPER: Donald Trump released a video on Friday about healing. "
        "Take a listen.\n\nFALLIN: Well, I think the whole nation needs to work together.\n\n"
        "TAPPER: Critics say he has campaigned on division. Is he a racial healer?"
    )
    spans = [
        ("Source", "JAKE TAPPER", 0.9),  # the tagger reads the first turn itself
        ("Cue", ":", 0.9),
        ("Content", "Donald Trump released a video on Friday about healing. Take a listen.", 0.9),
        ("Source", "Critics", 0.9),  # and a statement inside the third
        ("Cue", "say", 0.9),
        ("Content", "he has campaigned on division", 0.9),
    ]
    found = extract_quotes(text, kinds="direct,mixed,indirect", tagger=FakeTagger(spans))
    assert [(q.speaker, q.rule, q.kind) for q in found] == [
        ("Jake Tapper", "transcript", "direct"),
        ("Mary Fallin", "transcript", "direct"),
        ("Jake Tapper", "transcript", "direct"),
        ("Critics", "tagger:0.90", "indirect"),
    ]


def test_touching_spans_of_one_role_are_joined_but_not_two_quotations():
    text = "Clinton beats Trump by 46 percent, the poll said. “Yes.” “No.” Berg  Hill said so"

    def at(role, phrase, prob=0.8):
        start = text.index(phrase)
        return TaggedSpan(role, start, start + len(phrase), prob)

    spans = [
        at("Content", "Clinton beats Trump", 0.9),
        at("Content", "by 46 percent", 0.6),
        at("Source", "the poll"),
        at("Content", "“Yes.”"),
        at("Content", "“No.”"),
        at("Source", "Berg"),
        at("Source", "Hill"),
        at("Cue", "said so"),
    ]
    joined = join_touching(text, spans)
    assert [text[s.start : s.end] for s in joined] == [
        "Clinton beats Trump by 46 percent",
        "the poll",
        "“Yes.”",
        "“No.”",
        "Berg  Hill",
        "said so",
    ]
    # the mean probability weighs each part by its length (19 and 13 characters)
    assert joined[0].prob == pytest.approx((19 * 0.9 + 13 * 0.6) / 32)
    # a word between two spans keeps them apart, and so does another role
    assert join_touching(text, [at("Content", "Clinton"), at("Content", "Trump")]) == [
        at("Content", "Clinton"),
        at("Content", "Trump"),
    ]
    assert len(join_touching(text, [at("Source", "Berg"), at("Cue", "Hill")])) == 2
    # two empty spans at one place (a piece with no characters) join without dividing by zero
    empty = [TaggedSpan("Cue", 5, 5, 0.4), TaggedSpan("Cue", 5, 5, 0.6)]
    assert join_touching(text, empty) == [TaggedSpan("Cue", 5, 5, pytest.approx(0.5))]


@pytest.mark.parametrize(
    ("source", "read"),
    [
        ("Some Democrats,", "Some Democrats"),  # a plain noun phrase: no closing comma
        ("Mr. Ryan, a Republican", "Mr. Ryan, a Republican,"),  # an appositive: its closing comma
        ("Mr. Ryan, a Republican,", "Mr. Ryan, a Republican,"),
        ("Some Democrats", "Some Democrats"),
        ("Some Democrats ,", "Some Democrats"),  # the space before a dropped comma goes too
        ("1,200 workers", "1,200 workers"),  # a number's comma is no appositive
        ("1,200 workers,", "1,200 workers"),
        (",", ","),  # a lone comma is left as it is, not made empty
    ],
)
def test_a_source_ends_at_the_comma_as_polnear_draws_it(source, read):
    from stance.quotes.tagger import source_comma

    text = (
        "Yesterday Some Democrats, and Mr. Ryan, a Republican, said no. Some Democrats , 1,200 workers, agree"
    )
    start = text.index(source)
    span = source_comma(text, TaggedSpan("Source", start, start + len(source), 0.9))
    assert text[span.start : span.end] == read and span.prob == 0.9


@pytest.mark.parametrize(
    ("piece", "word"),
    [("hew", "hewed"), ("ough", "rough"), ("He", "He"), ("", "")],
)
def test_whole_words_grows_a_piece_to_its_word(piece, word):
    from stance.quotes.tagger import whole_words

    text = "He’s rough-hewed"
    start = text.index(piece) if piece else len(text)  # an empty span at the very end stays empty
    grown = whole_words(text, TaggedSpan("Source", start, start + len(piece), 0.9))
    assert text[grown.start : grown.end] == word
    assert whole_words(text, TaggedSpan("Source", 0, 0, 0.9)) == TaggedSpan("Source", 0, 0, 0.9)
