"""The attribution tagger: a token classifier that marks who (Source), how (Cue) and what (Content).

Trained on PolNeAR (``stance train configs/attribution.yaml``), it reads a whole article in
overlapping windows of word pieces and labels each piece with BIO tags over the three roles of an
attribution. :func:`stance.quotes.extract_quotes` uses its spans beside the rules: the rules keep
deciding direct quotes, the tagger adds reported statements and proposes sources.

Example:
    >>> tagger = AttributionTagger.from_pretrained("models/attribution")
    >>> [(s.role, s.start, s.end) for s in tagger.tag("The minister said taxes will fall.")]
    [('Source', 0, 12), ('Cue', 13, 17), ('Content', 18, 33)]
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from stance.errors import InputError, ModelLoadError
from stance.model.folder import STANCE_CONFIG, read_settings, verify_folder
from stance.quotes.marks import MARKS

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

Role = Literal["Source", "Cue", "Content"]
ROLES: tuple[Role, ...] = ("Source", "Cue", "Content")
LABELS: tuple[str, ...] = ("O", *(f"{p}-{r}" for r in ROLES for p in ("B", "I")))
TASK = "attribution"
ENSEMBLE = "ensemble.json"  # an ensemble folder: its members and their weights (see load_tagger)
# 256 pieces hold a paragraph or two of news: long enough to see a cue and its source, a quarter of
# MiniLM's cost per piece at 512 (attention is quadratic); neighbouring windows share OVERLAP pieces
# so that no span is read without context on both sides (32: every shipped tagger, 15 % extra cost).
WINDOW = 256
OVERLAP = 32
DEFAULT_PATH = Path("models/attribution")


@dataclass(frozen=True)
class TaggedSpan:
    """One role span in the text: ``text[start:end]`` and the mean probability of its tags."""

    role: Role
    start: int
    end: int
    prob: float


@dataclass(frozen=True)
class Window:
    """Word-piece ids of one window and the index of its first piece in the article."""

    ids: list[int]
    first: int


def windows(n_pieces: int, window: int = WINDOW, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """``(start, end)`` piece ranges covering ``n_pieces`` with ``window - 2`` pieces each.

    Two places in each window go to [CLS] and [SEP]; consecutive windows share ``overlap`` pieces.

    Example:
        >>> windows(600, 256, 64)
        [(0, 254), (190, 444), (380, 600)]
    """
    size = window - 2
    if size <= overlap:
        raise InputError(f"window={window} must exceed overlap={overlap} + 2")
    if n_pieces <= size:
        return [(0, n_pieces)]
    out = []
    start = 0
    while True:
        end = min(start + size, n_pieces)
        out.append((start, end))
        if end == n_pieces:
            return out
        start = end - overlap


def piece_labels(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[str, int, int]]) -> list[int]:
    """BIO label ids for word pieces with character ``offsets``, from ``(role, start, end)`` spans.

    A piece takes a role when it overlaps the span; the first such piece opens it (B).

    Example:
        >>> piece_labels([(0, 2), (3, 7), (8, 12)], [("Source", 0, 2), ("Content", 3, 12)])
        [1, 5, 6]
    """
    ids = {label: i for i, label in enumerate(LABELS)}
    labels = [0] * len(offsets)
    for role, start, end in spans:
        inside = [i for i, (a, b) in enumerate(offsets) if a < end and start < b and b > a]
        for n, i in enumerate(inside):
            labels[i] = ids[f"{'B' if n == 0 else 'I'}-{role}"]
    return labels


def text_windows(tokenizer, text: str, targets: Any, window: int, overlap: int, edge: Any) -> list[dict]:
    """One text's training rows: windows of word-piece ids and their ``labels``.

    ``targets(offsets)`` gives one label per piece of the whole text (a tag id, or a distribution);
    ``edge`` is the label of [CLS] and [SEP], which no loss counts.
    """
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids = encoded["input_ids"]
    labels = targets([tuple(o) for o in encoded["offset_mapping"]])
    return [
        {
            "input_ids": [tokenizer.cls_token_id, *ids[a:b], tokenizer.sep_token_id],
            "labels": [edge, *labels[a:b], edge],
        }
        for a, b in windows(len(ids), window, overlap)
    ]


# an I- tag cannot open the text
_FIRST = [float("-inf") if label.startswith("I-") else 0.0 for label in LABELS]
# per role, the id of its I- tag; per role (in ROLES' order), its I- tag and its B- tag: O and every B-
# may follow any tag, an I- only its role's B- or I-
_INSIDE = {role: LABELS.index(f"I-{role}") for role in ROLES}
_I_PAIRS = [(_INSIDE[role], LABELS.index(f"B-{role}")) for role in ROLES]
# where a step's back-pointers keep each tag's predecessor: slot 0 the best tag of the step before
# (for O and the B- tags), then one slot per I- tag
_SLOT = [1 + ROLES.index(label[2:]) if label.startswith("I-") else 0 for label in LABELS]
# per tag id, its role ("" for O)
_ROLE = ["" if label == "O" else label[2:] for label in LABELS]


def best_tags(probs: torch.Tensor) -> list[int]:
    """The most probable tag sequence that is valid BIO (Viterbi over log-probabilities).

    Per-piece argmax breaks a long content wherever one piece in its middle leans to ``O`` or to a
    fresh ``B``; the best valid path keeps it whole unless the evidence for a break outweighs the
    rest of the span, and never opens a span with an ``I`` of another role. Plain Python floats:
    with seven tags, O and every B- follow the step's best tag and each I- the better of its role's
    B- and I-, which is faster than array calls per piece.
    """
    import torch

    if probs.shape[0] == 0:
        return []
    logp = torch.log(probs.float().clamp(min=1e-9)).tolist()
    score = [lp + f for lp, f in zip(logp[0], _FIRST, strict=True)]
    back: list[list[int]] = []
    for row in logp[1:]:
        best = max(score)
        pointers = [score.index(best)]
        step = [best + lp for lp in row]
        for i_tag, b_tag in _I_PAIRS:
            before = b_tag if score[b_tag] >= score[i_tag] else i_tag
            step[i_tag] = score[before] + row[i_tag]
            pointers.append(before)
        score = step
        back.append(pointers)
    tag = score.index(max(score))
    path = [tag]
    for pointers in reversed(back):
        tag = pointers[_SLOT[tag]]
        path.append(tag)
    return path[::-1]


def decode(probs: torch.Tensor, offsets: Sequence[tuple[int, int]], greedy: bool = False) -> list[TaggedSpan]:
    """Spans from per-piece label probabilities (shape ``(n, len(LABELS))``).

    Tags are the best valid BIO path (:func:`best_tags`); ``greedy`` takes each piece's most
    probable tag instead, where a span opens on B or on an I that does not continue the same role.
    Each span carries the mean probability of its pieces' chosen tags.
    """
    import torch

    if greedy:
        best_p, best = probs.max(dim=-1)
        tags, chosen = best.tolist(), best_p.tolist()
    else:
        tags = best_tags(probs)
        chosen = probs.gather(1, torch.tensor(tags, dtype=torch.long)[:, None])[:, 0].tolist() if tags else []
    out: list[TaggedSpan] = []
    i, n = 0, len(tags)
    while i < n:
        role = _ROLE[tags[i]]
        if not role:  # O
            i += 1
            continue
        # a span opens on any tag of a role (B, or an I that continues nothing) and runs on
        # over the I tags of the same role
        j = i + 1
        while j < n and tags[j] == _INSIDE[role]:
            j += 1
        out.append(TaggedSpan(role, offsets[i][0], offsets[j - 1][1], sum(chosen[i:j]) / (j - i)))
        i = j
    return out


def read_spans(
    text: str, probs: torch.Tensor, offsets: Sequence[tuple[int, int]], greedy: bool = False
) -> list[TaggedSpan]:
    """The role spans of ``text`` from its pieces' probabilities (:func:`decode`), in whole words,
    touching spans of one role joined (:func:`join_touching`)."""
    spans = join_touching(text, [whole_words(text, s) for s in decode(probs, offsets, greedy)])
    return [source_comma(text, s) if s.role == "Source" else s for s in spans]


def source_comma(text: str, span: TaggedSpan) -> TaggedSpan:
    """A Source's closing comma as PolNeAR draws it: kept after an appositive ("James Acton, a
    physicist," 864 times in train against 100), left out after a plain noun phrase ("Some
    Democrats" 749 times against 3); the tagger's own spans end either way.

    Example:
        >>> text = "Some Democrats, and Mr. Ryan, a Republican, said"
        >>> [text[s.start : s.end] for s in (source_comma(text, TaggedSpan("Source", 0, 15, 0.9)),
        ...                                  source_comma(text, TaggedSpan("Source", 20, 42, 0.9)))]
        ['Some Democrats', 'Mr. Ryan, a Republican,']
    """
    end = span.end
    while end > span.start and text[end - 1].isspace():
        end -= 1
    body = _NUMBER_COMMA.sub("", text[span.start : end])  # "1,200 workers" holds no appositive
    if body.endswith(",") and "," not in body[:-1] and body.strip(", "):
        end -= 1
        while end > span.start and text[end - 1].isspace():  # "Some Democrats ,"
            end -= 1
        return TaggedSpan(span.role, span.start, end, span.prob)
    if not body.endswith(",") and "," in body and text[end : end + 1] == ",":
        return TaggedSpan(span.role, span.start, end + 1, span.prob)
    return span


_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d)")


# double quotation marks: a content that holds one is (part of) a quotation, which the rules read
_DOUBLE_MARKS = tuple(mark for mark, info in MARKS.items() if info.family != "single")


def join_touching(text: str, spans: list[TaggedSpan]) -> list[TaggedSpan]:
    """Spans of one role with only spaces between them as one span (their mean probability, by length).

    The decoder may open a fresh ``B-`` right after a span of the same role ends ("Clinton beats
    Trump | by 46 percent"): on PolNeAR dev 30 gold contents were cut so. Contents that hold a
    quotation mark stay apart (two quotations in a row are two quotes).
    """
    out: list[TaggedSpan] = []
    marked = False  # whether out[-1] holds a quotation mark (read once per span: linear)
    for span in spans:
        last = out[-1] if out else None
        has_mark = span.role == "Content" and any(m in text[span.start : span.end] for m in _DOUBLE_MARKS)
        if (
            last is not None
            and span.role == last.role
            and not text[last.end : span.start].strip()
            and not (span.role == "Content" and (marked or has_mark))
        ):
            a, b = last.end - last.start, span.end - span.start  # weighed by length, as pieces are
            prob = (a * last.prob + b * span.prob) / (a + b) if a + b else (last.prob + span.prob) / 2
            out[-1] = TaggedSpan(span.role, last.start, span.end, prob)
        else:
            out.append(span)
            marked = has_mark
    return out


def whole_words(text: str, span: TaggedSpan) -> TaggedSpan:
    """A span that starts or ends inside a word (a word piece tagged alone) grown to the whole word."""
    start, end = span.start, span.end
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return span if (start, end) == (span.start, span.end) else TaggedSpan(span.role, start, end, span.prob)


class SpanTagger:
    """What the pipeline reads: role spans from per-piece probabilities (one tagger or an ensemble).

    Subclasses give ``probabilities``; spans are decoded here, the same way for both.
    """

    name: str
    precision: str

    def probabilities(
        self, texts: Sequence[str], batch_size: int = 16, show_progress: bool = False
    ) -> list[tuple[torch.Tensor, list]]:
        raise NotImplementedError

    def tag_many(
        self, texts: Sequence[str], batch_size: int = 16, show_progress: bool = False
    ) -> list[list[TaggedSpan]]:
        """Role spans of each text, in reading order (one list per text, always a list of lists)."""
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"texts[{i}] is {type(text).__name__}, expected str")
        return [
            read_spans(text, p, offsets)
            for text, (p, offsets) in zip(
                texts, self.probabilities(texts, batch_size, show_progress), strict=True
            )
        ]

    def tag(self, text: str) -> list[TaggedSpan]:
        """Role spans of one text, in reading order."""
        return self.tag_many([text])[0]


class AttributionTagger(SpanTagger):
    """A token-classification model over BIO tags of Source, Cue and Content.

    Args:
        model: a transformers token-classification model whose labels are :data:`LABELS`.
        tokenizer: its fast tokenizer (character offsets are needed).
        window, overlap: word pieces per window and pieces shared by neighbouring windows.
        precision: ``"fp32"``, ``"bf16"`` (autocast) or ``"auto"`` (bf16 where the CPU has it).
    """

    def __init__(
        self,
        model,
        tokenizer,
        window: int = WINDOW,
        overlap: int = OVERLAP,
        precision: str = "auto",
        name: str = "attribution",
    ) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ModelLoadError("the attribution tagger needs a fast tokenizer (character offsets)")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.window = window
        self.overlap = overlap
        self.name = name
        self.precision = _precision(precision)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        precision: str = "auto",
        quantize: str | None = None,
        allow_unverified: bool = False,
    ) -> AttributionTagger:
        """Load a tagger folder written by ``stance train configs/attribution.yaml``.

        Args:
            path: the model folder (weights checked against ``checksums.json``).
            precision: ``"fp32"``, ``"bf16"`` (weights in bf16, under autocast) or ``"auto"``.
            quantize: ``"int8"`` for torch dynamic quantisation of the linear layers.
            allow_unverified: load a folder without ``checksums.json``.

        Raises:
            ModelNotFoundError: the folder does not exist.
            ModelLoadError: incomplete, corrupt, not a tagger, or weights that do not fit.
        """
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from stance.model.classifier import _refuse_partial_load

        path = Path(path)
        extra = tagger_settings(path, allow_unverified)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model, info = AutoModelForTokenClassification.from_pretrained(path, output_loading_info=True)
        except (OSError, ValueError, RuntimeError) as err:
            raise ModelLoadError(f"model folder {path} could not be loaded: {err}") from err
        _refuse_partial_load(path, info)
        labels = tuple(model.config.id2label[i] for i in range(len(model.config.id2label)))
        if labels != LABELS:
            raise ModelLoadError(f"model folder {path}: labels {list(labels)} are not {list(LABELS)}")
        tagger = cls(
            model,
            tokenizer,
            extra.get("max_length", WINDOW),
            extra.get("overlap", OVERLAP),
            precision,
            name=path.resolve().name,
        )
        if quantize:
            if quantize != "int8":
                raise InputError(f"quantize={quantize!r}; only 'int8' is supported")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tagger.model = torch.ao.quantization.quantize_dynamic(
                    tagger.model, {torch.nn.Linear}, dtype=torch.qint8
                ).eval()
        elif tagger.precision == "bf16":
            # weights held in bf16 rather than cast by autocast on every call: half the memory per
            # worker, and 1.03x autocast's speed (benchmarks/tagger_precision.py on PolNeAR dev)
            tagger.model = tagger.model.to(torch.bfloat16)
        return tagger

    def pieces(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Word-piece ids and character offsets of a whole text (no special tokens)."""
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        return list(encoded["input_ids"]), [tuple(o) for o in encoded["offset_mapping"]]

    def probabilities(
        self, texts: Sequence[str], batch_size: int = 16, show_progress: bool = False
    ) -> list[tuple[torch.Tensor, list]]:
        """Per text: label probabilities of every word piece (averaged over windows) and offsets.

        Windows of all texts are batched together, shortest first, so that short articles share
        a forward pass and padding stays small; ``show_progress`` draws a bar over the batches.
        """
        import torch

        if batch_size < 1:
            raise InputError(f"batch_size={batch_size}; must be at least 1")
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        encoded = [self.pieces(t) for t in texts]
        jobs = []  # (text index, first piece, ids)
        for n, (ids, _) in enumerate(encoded):
            for a, b in windows(len(ids), self.window, self.overlap):
                jobs.append((n, a, [cls_id, *ids[a:b], sep_id]))
        sums = [torch.zeros(len(ids), len(LABELS)) for ids, _ in encoded]
        counts = [torch.zeros(len(ids), 1) for ids, _ in encoded]
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][2]))
        # bf16 autocast runs on the CPU's AMX/AVX512-BF16 units; softmax is taken in fp32
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16")
        batches = range(0, len(order), batch_size)
        if show_progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="tagging", unit="batch")
        with torch.inference_mode(), autocast:
            for s in batches:
                chunk = [jobs[j] for j in order[s : s + batch_size]]
                longest = max(len(c[2]) for c in chunk)
                input_ids = torch.zeros(len(chunk), longest, dtype=torch.long)
                mask = torch.zeros(len(chunk), longest, dtype=torch.long)
                for row, (_, _, ids) in enumerate(chunk):
                    input_ids[row, : len(ids)] = torch.tensor(ids)
                    mask[row, : len(ids)] = 1
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits.float()
                probs = torch.softmax(logits, dim=-1)
                for row, (n, first, ids) in enumerate(chunk):
                    inner = len(ids) - 2
                    sums[n][first : first + inner] += probs[row, 1 : 1 + inner]
                    counts[n][first : first + inner] += 1
        return [
            (s / c.clamp(min=1), offsets) for s, c, (_, offsets) in zip(sums, counts, encoded, strict=True)
        ]


class TaggerEnsemble(SpanTagger):
    """Taggers that cut text into the same word pieces, read as one: a weighted mean of their probabilities.

    Members trained differently (MiniLM and mpnet, say) err in different places; where one is unsure
    the other often is not. MiniLM and mpnet share their word pieces (the same offsets on every
    PolNeAR article); members that cut a text differently are refused when they meet it.

    Args:
        members: the taggers.
        weights: each member's share (normalised to sum to 1); equal shares by default.
        name: what ``stance evaluate-quotes`` and ``/ready`` call it.
    """

    def __init__(
        self,
        members: Sequence[AttributionTagger],
        weights: Sequence[float] | None = None,
        name: str = "ensemble",
    ) -> None:
        self.members = list(members)
        self.weights = _shares(len(self.members), weights)
        self.name = name
        self.precision = self.members[0].precision

    def probabilities(
        self, texts: Sequence[str], batch_size: int = 16, show_progress: bool = False
    ) -> list[tuple[torch.Tensor, list]]:
        """Per text: the weighted mean of the members' per-piece probabilities, and the offsets."""
        read = [m.probabilities(texts, batch_size, show_progress) for m in self.members]
        return mean_probabilities(read, self.weights, self.name)


def mean_probabilities(
    read: Sequence[Sequence[tuple[torch.Tensor, list]]], weights: Sequence[float], name: str = "ensemble"
) -> list[tuple[torch.Tensor, list]]:
    """Per text, ``sum(w * p)`` over the taggers' per-piece probabilities (``read``: one list per tagger).

    Raises:
        ModelLoadError: two taggers cut a text into different word pieces (their offsets differ).
    """
    out = []
    for i, per_member in enumerate(zip(*read, strict=True)):
        offsets = per_member[0][1]
        if any(other != offsets for _, other in per_member[1:]):
            raise ModelLoadError(
                f"the taggers of ensemble {name} cut texts[{i}] into different word pieces; "
                "an ensemble needs taggers that share a tokenizer"
            )
        out.append((sum(w * p for w, (p, _) in zip(weights, per_member, strict=True)), offsets))
    return out


def tagger_settings(path: Path, allow_unverified: bool = False) -> dict:
    """The ``stance_config.json`` of a verified attribution tagger folder.

    Raises:
        ModelNotFoundError, ModelUnverifiedError, ModelLoadError: as :func:`verify_folder`, or the
            folder holds another kind of model.
    """
    verify_folder(path, allow_unverified=allow_unverified)
    extra = read_settings(path)
    if extra.get("task") != TASK:
        raise ModelLoadError(
            f"model folder {path} is not an attribution tagger ({STANCE_CONFIG} task "
            f"{extra.get('task')!r}, expected {TASK!r})"
        )
    return extra


def load_tagger(
    path: str | Path, precision: str = "auto", quantize: str | None = None, allow_unverified: bool = False
) -> AttributionTagger | TaggerEnsemble:
    """A tagger folder (``stance train configs/attribution.yaml``) or an ensemble folder
    (``stance tagger-ensemble``: ``ensemble.json`` and one verified folder per member).

    Raises:
        ModelNotFoundError: the folder does not exist.
        ModelLoadError: a member or ``ensemble.json`` is missing, corrupt or not a tagger.
    """
    path = Path(path)
    if not (path / ENSEMBLE).is_file():
        return AttributionTagger.from_pretrained(path, precision, quantize, allow_unverified)
    try:
        spec = json.loads((path / ENSEMBLE).read_text(encoding="utf-8"))
        folders = [str(m["folder"]) for m in spec["members"]]
        weights = [float(m["weight"]) for m in spec["members"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelLoadError(f"{path / ENSEMBLE} is not a readable ensemble: {err}") from err
    if spec.get("task") != TASK or any(Path(f).name != f for f in folders):
        raise ModelLoadError(f"{path / ENSEMBLE}: expected task {TASK!r} and member folders inside {path}")
    members = [
        AttributionTagger.from_pretrained(path / f, precision, quantize, allow_unverified) for f in folders
    ]
    try:
        return TaggerEnsemble(members, weights, name=path.resolve().name)
    except InputError as err:
        raise ModelLoadError(f"{path / ENSEMBLE}: {err}") from err


def write_ensemble(
    taggers: Sequence[str | Path], weights: Sequence[float] | None, output: str | Path
) -> Path:
    """Copy verified tagger folders into one ensemble folder ``output`` (replaced atomically).

    Raises:
        InputError: fewer than two taggers, or weights that do not fit them.
        ModelNotFoundError, ModelLoadError: a tagger folder is missing, corrupt or not a tagger.
    """
    import shutil

    from stance.atomic import atomic_dir

    folders = [Path(t) for t in taggers]
    shares = _shares(len(folders), weights)
    for folder in folders:
        tagger_settings(folder)
    with atomic_dir(output) as tmp:
        members = []
        for n, (folder, weight) in enumerate(zip(folders, shares, strict=True)):
            shutil.copytree(folder, tmp / f"member-{n}")
            members.append({"folder": f"member-{n}", "weight": weight, "from": folder.resolve().name})
        # the members keep their own checksums.json; this file only names them
        (tmp / ENSEMBLE).write_text(json.dumps({"task": TASK, "members": members}, indent=2))
    return Path(output)


def _shares(n: int, weights: Sequence[float] | None) -> list[float]:
    """Each of ``n`` taggers' share of an ensemble, summing to 1 (equal when ``weights`` is None)."""
    if n < 2:
        raise InputError(f"an ensemble needs at least two taggers, got {n}")
    shares = [1.0] * n if weights is None else [float(w) for w in weights]
    if len(shares) != n or not all(w > 0 for w in shares):
        raise InputError(f"weights {shares}: expected {n} positive numbers, one per tagger")
    return [w / sum(shares) for w in shares]


def _precision(precision: str) -> str:
    from stance.model.classifier import cpu_has_fast_bf16

    if precision not in {"fp32", "bf16", "auto"}:
        raise InputError(f"precision={precision!r}; expected fp32, bf16 or auto")
    if precision == "auto":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return precision


def default_tagger_path() -> Path | None:
    """``STANCE_TAGGER_PATH`` if set (empty turns the tagger off), else ``models/attribution`` if present."""
    env = os.environ.get("STANCE_TAGGER_PATH")
    if env is not None:
        return Path(env).expanduser() if env.strip() else None
    return DEFAULT_PATH if DEFAULT_PATH.is_dir() else None


def load_default_tagger(precision: str = "auto") -> SpanTagger | None:
    """The tagger at :func:`default_tagger_path`, or None (rules only) when there is none.

    Raises:
        ModelLoadError: a configured folder exists but is broken (never silently ignored).
    """
    path = default_tagger_path()
    if path is None:
        return None
    if not path.is_dir():
        if os.environ.get("STANCE_TAGGER_PATH"):
            raise ModelLoadError(f"STANCE_TAGGER_PATH={path} is not a folder")
        return None
    tagger = load_tagger(path, precision=precision)
    logger.info("attribution tagger loaded from %s (%s)", path, tagger.precision)
    return tagger


@lru_cache(maxsize=1)
def shared_tagger() -> SpanTagger | None:
    """:func:`load_default_tagger`, once per process (each service worker and corpus worker)."""
    return load_default_tagger()


def tagger_status() -> str:
    """One line for ``/ready`` and ``stance quotes --explain``: the tagger in use, or rules only and why."""
    path = default_tagger_path()
    if path is not None and (path / STANCE_CONFIG).is_file():
        return f"rules + attribution tagger {path}"
    if path is not None and (path / ENSEMBLE).is_file():
        return f"rules + attribution tagger ensemble {path}"
    if os.environ.get("STANCE_TAGGER_PATH") == "":
        return "rules only (STANCE_TAGGER_PATH is empty)"
    where = path or DEFAULT_PATH
    return (
        f"rules only (no attribution tagger at {where}; train one with "
        "`stance train configs/attribution.yaml` or set STANCE_TAGGER_PATH)"
    )
