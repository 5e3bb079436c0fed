"""The stance model: a cross-encoder that reads (topic, quote [+ context]) and says favor/against/none.

Example:
    >>> clf = StanceClassifier.from_pretrained("models/default")
    >>> clf.predict("We will not sign the accord.", "the JCPOA")[0].label
    'against'
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from stance.atomic import atomic_dir
from stance.config import check_topic_template
from stance.errors import InputError, ModelLoadError
from stance.labels import LABELS
from stance.model.calibration import Calibration, read_calibration, write_calibration
from stance.model.encoders import pinned_weights_sha256
from stance.model.folder import CHECKSUMS, STANCE_CONFIG, read_settings, verify_folder, write_checksums
from stance.model.modeling import ARCHITECTURES, mean_pool_class
from stance.options import Precision
from stance.pairs import StancePair, StancePrediction, as_pairs, check_pair

logger = logging.getLogger(__name__)

__all__ = [
    "CHECKSUMS",
    "STANCE_CONFIG",
    "ModelLoadError",
    "StanceClassifier",
    "StancePair",
    "StancePrediction",
]


class StanceClassifier:
    """Tokenizer, sequence-classification model and label map, with fast batched prediction."""

    def __init__(
        self,
        model,
        tokenizer,
        max_length: int = 128,
        name: str = "stance",
        topic_template: str | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.name = name
        # the topic as an NLI-style hypothesis ("The author is in favor of {topic}."), or as is
        self.topic_template = check_topic_template(topic_template)
        # a temperature fitted on dev (stance.model.calibration); None reads the logits as they are
        self.calibration = calibration
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.labels = [self.id2label[i] for i in range(len(self.id2label))]
        self.quantized = False
        self.precision = "fp32"
        # check_pairs reads topics with a tokenizer of its own: a fast tokenizer switches truncation
        # on and off in place before each call, so a check on the service's event loop could
        # switch it off between the model thread's switching it on and its encoding (untruncated
        # pairs then reached the model)
        self._check_tokenizer = None
        self._check_lock = threading.Lock()

    @classmethod
    def from_base(
        cls,
        base: str | Path,
        max_length: int = 128,
        dropout: float = 0.1,
        topic_template: str | None = None,
        overrides: dict[str, float] | None = None,
    ):
        """A classifier on a local encoder folder: a randomly initialised 3-way head on a plain
        encoder, the folder's own head where it is a trained stance model (``model.layers``
        students start so). ``overrides`` are further encoder config values (an attention
        dropout)."""
        path = Path(base)
        # a base encoder is not a trained folder: its checksum is pinned elsewhere or absent
        verify_folder(path, allow_unverified=True, pinned=pinned_weights_sha256(path))
        tokenizer = AutoTokenizer.from_pretrained(path)
        model_class = mean_pool_class(AutoConfig.from_pretrained(path).model_type)
        model = model_class.from_pretrained(
            path,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id={label: i for i, label in enumerate(LABELS)},
            hidden_dropout_prob=dropout,
            **(overrides or {}),
        )
        return cls(model, tokenizer, max_length=max_length, name=path.name, topic_template=topic_template)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        quantize: str | None = None,
        num_threads: int | None = None,
        precision: str = "fp32",
        allow_unverified: bool = False,
    ) -> StanceClassifier:
        """Load a saved model folder, checking its weights against ``checksums.json``.

        Args:
            path: a folder written by :meth:`save_pretrained` or ``stance train``.
            quantize: ``"int8"`` for torch dynamic quantisation of the linear layers.
            precision: ``"fp32"`` (exact), ``"bf16"`` (autocast; fast on CPUs with AMX or
                AVX512-BF16) or ``"auto"`` (bf16 where the CPU has it, else fp32).
            num_threads: torch intra-op threads; default: the number of CPUs available.
            allow_unverified: load a folder that has no ``checksums.json``.

        Raises:
            ModelNotFoundError: the folder does not exist.
            ModelUnverifiedError: no ``checksums.json`` and not ``allow_unverified``.
            ModelLoadError: the folder is incomplete or corrupt, fails its checksum, or its weights
                do not fit the architecture (missing or unexpected tensors).
        """
        path = Path(path)
        verify_folder(path, allow_unverified=allow_unverified, pinned=pinned_weights_sha256(path))
        if num_threads:
            torch.set_num_threads(num_threads)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            config = AutoConfig.from_pretrained(path)
            trained = [a for a in (config.architectures or []) if a in ARCHITECTURES]
            model_class = ARCHITECTURES[trained[0]] if trained else AutoModelForSequenceClassification
            model, info = model_class.from_pretrained(path, output_loading_info=True)
        except (OSError, ValueError, RuntimeError) as err:
            raise ModelLoadError(f"model folder {path} could not be loaded: {err}") from err
        _refuse_partial_load(path, info)
        if set(model.config.id2label.values()) != set(LABELS):
            raise ModelLoadError(
                f"model folder {path}: labels {sorted(model.config.id2label.values())} are not {list(LABELS)}"
            )
        extra = read_settings(path)
        clf = cls(
            model,
            tokenizer,
            max_length=extra.get("max_length", 128),
            name=path.name,
            topic_template=extra.get("topic_template"),
            calibration=read_calibration(path),
        )
        clf.set_precision(precision)
        if quantize:
            clf.quantize(quantize)
        return clf

    def set_precision(self, precision: str) -> StanceClassifier:
        """Choose fp32, bf16 autocast, or auto (bf16 when the CPU runs it natively)."""
        if precision not in set(Precision):
            raise InputError(f"precision={precision!r}; expected fp32, bf16 or auto")
        if precision == Precision.auto:
            precision = "bf16" if cpu_has_fast_bf16() else "fp32"
        self.precision = str(Precision(precision))
        return self

    def quantize(self, mode: str = "int8") -> StanceClassifier:
        """Quantise linear layers to int8 in place (torch dynamic quantisation); returns self."""
        if mode != "int8":
            raise ValueError(f"quantize={mode!r}; only 'int8' is supported")
        # torch marks eager dynamic quantisation deprecated in favour of torchao, which is not a
        # dependency here; the API still works in the pinned torch and keeps the install small.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            self.model = torch.ao.quantization.quantize_dynamic(
                self.model, {torch.nn.Linear}, dtype=torch.qint8
            ).eval()
        self.quantized = True
        return self

    def save_pretrained(self, path: str | Path) -> Path:
        """Write weights (safetensors), tokenizer, label map and checksums atomically."""
        if self.quantized:
            raise ValueError("save the fp32 model; quantise after loading")
        path = Path(path)
        with atomic_dir(path) as tmp:
            self.write_to(tmp)
        return path

    def write_to(self, folder: Path) -> None:
        """Write the model files into an existing folder (callers handle atomicity)."""
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        self.write_settings(folder)
        if self.calibration is not None:
            write_calibration(folder, self.calibration)
        write_checksums(folder)

    def write_settings(self, folder: Path) -> None:
        """``stance_config.json``: how many tokens the model reads, and how it reads a topic."""
        settings: dict = {"max_length": self.max_length}
        if self.topic_template:
            settings["topic_template"] = self.topic_template
        (folder / STANCE_CONFIG).write_text(json.dumps(settings, indent=2))

    @property
    def temperature(self) -> float:
        """What the logits are divided by before the softmax (1.0 without calibration)."""
        return self.calibration.temperature if self.calibration is not None else 1.0

    def hypothesis(self, topic: str) -> str:
        """What the model reads in the topic's place: the topic, or ``topic_template`` filled with it."""
        return self.topic_template.format(topic=topic) if self.topic_template else topic

    def encode_pairs(self, pairs: Sequence[StancePair]) -> dict:
        """Tokenise pairs as ``topic [SEP] reading [SEP] context``; only the second part is cut.

        The topic is read through :meth:`hypothesis` (the model's topic template, if it has one).
        """
        sep = self.tokenizer.sep_token
        seconds = [p.reading if not p.context else f"{p.reading} {sep} {p.context}" for p in pairs]
        firsts = [self.hypothesis(p.topic) for p in pairs]
        return self.tokenizer(firsts, seconds, truncation="only_second", max_length=self.max_length)

    def check_pairs(
        self, pairs: Sequence[StancePair], name: Callable[[int], str] = "pairs[{}]".format
    ) -> None:
        """Refuse, before any work is queued, a pair this model cannot read.

        The reading and context are cut to fit the model's token limit, but the topic is not: a
        topic must leave room for at least a few tokens of the reading.

        Args:
            pairs: the pairs to check.
            name: how the error names the i-th pair (``items[3]`` in the service).

        Raises:
            InputError: naming the pair (``pairs[3].topic``) and the limit.
        """
        topics = sorted({p.topic for p in pairs})
        if not topics:
            return
        budget = self.max_length - self.tokenizer.num_special_tokens_to_add(pair=True) - MIN_READING_TOKENS
        hypotheses = [self.hypothesis(t) for t in topics]
        with self._check_lock:
            if self._check_tokenizer is None:
                self._check_tokenizer = copy.deepcopy(self.tokenizer)
            reader: Any = self._check_tokenizer
            ids = reader(hypotheses, add_special_tokens=False)["input_ids"]
        lengths = dict(zip(topics, map(len, ids), strict=True))
        for i, pair in enumerate(pairs):
            if lengths[pair.topic] > budget:
                raise InputError(
                    f"{name(i)}: the topic is {lengths[pair.topic]} tokens; this model reads "
                    f"{self.max_length} tokens in all, so a topic may have at most {budget}"
                )

    def predict_proba(
        self,
        texts: str | Sequence[str] | Sequence[StancePair],
        topics: str | Sequence[str] | None = None,
        batch_size: int = 32,
        contexts: str | Sequence[str | None] | None = None,
        show_progress: bool = False,
    ) -> torch.Tensor:
        """Probabilities, shape (n, 3) in ``self.labels`` order, rows in input order.

        Takes a list of :class:`StancePair`, or texts with one topic (or one per text) and
        optional contexts, as :meth:`predict` does.
        """
        pairs = _pairs_of(texts, topics, contexts)
        where = "pairs[{}]".format if topics is None else "topics[{}]".format
        return self._read(pairs, where, batch_size, show_progress, pooled=False)[0]

    @property
    def has_mean_pooled_head(self) -> bool:
        """Whether the model reads a mean-pooled vector (every model ``stance train`` writes)."""
        return type(self.model).__name__ in ARCHITECTURES

    def predict_with_embeddings(
        self, pairs: Sequence[StancePair], batch_size: int = 32, show_progress: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Probabilities (n, 3) and the mean-pooled vectors the head reads (n, hidden), in one pass.

        A teacher's reading for distillation: the vectors carry more of what it learned than its
        three probabilities (``distill.embedding_weight``).

        Raises:
            InputError: the model has no mean-pooled head (a folder saved by another class).
        """
        if not self.has_mean_pooled_head:
            raise InputError(f"{self.name}: {type(self.model).__name__} has no mean-pooled vector to read")
        return self._read(
            _pairs_of(pairs, None, None), "pairs[{}]".format, batch_size, show_progress, pooled=True
        )

    def _read(
        self,
        pairs: list[StancePair],
        where: Callable[[int], str],
        batch_size: int,
        show_progress: bool,
        pooled: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Probabilities and, if ``pooled``, the mean-pooled vectors (else an (n, 0) tensor)."""
        if batch_size < 1:
            raise InputError(f"batch_size={batch_size}; must be at least 1")
        n = len(pairs)
        vectors = torch.empty(n, self.model.config.hidden_size if pooled else 0)
        if n == 0:
            return torch.empty(0, len(self.labels)), vectors
        self.check_pairs(pairs, where)
        encoded = self.encode_pairs(pairs)
        ids = encoded["input_ids"]
        # Sorting by length means each batch pads only to its own longest member.
        order = sorted(range(n), key=lambda i: len(ids[i]))
        out = torch.empty(n, len(self.labels))
        batches = range(0, n, batch_size)
        if show_progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="predict", unit="batch")
        # bf16 autocast runs on the CPU's AMX/AVX512-BF16 units; softmax is taken in fp32
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16")
        # the model may sit on a GPU (a Ray actor on a GPU node); inputs follow it, results come back
        device = next(self.model.parameters()).device
        extra = {"return_pooled": True} if pooled else {}
        with torch.inference_mode(), autocast:
            for start in batches:
                idx = order[start : start + batch_size]
                features = [{k: encoded[k][i] for k in encoded} for i in idx]
                batch = self.tokenizer.pad(features, return_tensors="pt").to(device)
                output = self.model(**batch, **extra)
                out[idx] = torch.softmax(output.logits.float() / self.temperature, dim=-1).cpu()
                if pooled:
                    vectors[idx] = output.pooled.float().cpu()
        return out, vectors

    def predict(
        self,
        texts: str | Sequence[str] | Sequence[StancePair],
        topics: str | Sequence[str] | None = None,
        batch_size: int = 32,
        contexts: str | Sequence[str | None] | None = None,
        show_progress: bool = False,
    ) -> list[StancePrediction]:
        """Stance of each pair (or each text toward its topic).

        Args:
            texts: a list of :class:`StancePair`; or one text or a list of texts, with ``topics``.
            topics: one topic for all texts, or one per text (not with pairs).
            batch_size: examples per forward pass.
            contexts: optional sentence(s) around each quote, read after the quote (not with pairs).

        Returns:
            One :class:`StancePrediction` per pair or text, in input order (always a list).

        Raises:
            InputError: empty text or topic, text that is not UTF-8-encodable, a topic too long for
                the model, or a topics/contexts list of the wrong length.

        Example:
            >>> clf.predict([StancePair("We will not sign.", "the JCPOA")])[0].label
            'against'
        """
        probs = self.predict_proba(texts, topics, batch_size, contexts, show_progress)
        results = []
        for row in probs.tolist():
            best = max(range(len(row)), key=row.__getitem__)
            results.append(
                StancePrediction(
                    label=self.labels[best],
                    score=row[best],
                    scores={label: row[i] for i, label in enumerate(self.labels)},
                )
            )
        return results


# the tokenizer can cut the reading and context short but not to nothing: a longer topic fails
# the whole batch it is in (issue 17), so it is refused up front
MIN_READING_TOKENS = 1


def _pairs_of(
    texts: str | Sequence[str] | Sequence[StancePair],
    topics: str | Sequence[str] | None,
    contexts: str | Sequence[str | None] | None,
) -> list[StancePair]:
    """The one normaliser: pairs as given, or texts x topics [x contexts] as pairs (checked)."""
    if topics is None:
        if isinstance(texts, str) or not all(isinstance(p, StancePair) for p in texts):
            raise InputError("give a list of StancePair, or texts with topics")
        if contexts is not None:
            raise InputError("contexts go inside each StancePair")
        pairs = list(texts)
        for i, pair in enumerate(pairs):
            check_pair(pair, f"pairs[{i}]")  # type: ignore[arg-type]
        return pairs  # type: ignore[return-value]
    return as_pairs(texts, topics, contexts)  # type: ignore[arg-type]


def _refuse_partial_load(path: Path, info: dict) -> None:
    """A head or encoder left at random init is an error, never a warning (issue 9)."""
    problems = []
    for key, what in (("missing_keys", "missing"), ("unexpected_keys", "unexpected")):
        names = sorted(info.get(key) or [])
        if names:
            problems.append(f"{len(names)} {what} weight(s) ({', '.join(names[:3])})")
    mismatched = info.get("mismatched_keys") or []
    if mismatched:
        problems.append(f"{len(mismatched)} weight(s) of the wrong shape")
    if problems:
        raise ModelLoadError(
            f"model folder {path} does not fit its architecture: {'; '.join(problems)}. "
            "It was saved from another model class or is incomplete; retrain or re-save it."
        )


def cpu_has_fast_bf16() -> bool:
    """True when the CPU has AMX or AVX512-BF16 (Linux /proc/cpuinfo flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
