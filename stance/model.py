"""The stance model: a cross-encoder that reads (topic, quote [+ context]) and says favor/against/none.

Example:
    >>> clf = StanceClassifier.from_pretrained("models/default")
    >>> clf.predict("We will not sign the accord.", "the JCPOA")[0].label
    'against'
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from stance.atomic import atomic_dir
from stance.errors import InputError, ModelLoadError
from stance.labels import LABELS
from stance.model_folder import CHECKSUMS, STANCE_CONFIG, verify_folder, write_checksums
from stance.modeling import ARCHITECTURES, mean_pool_class
from stance.options import Precision

logger = logging.getLogger(__name__)

__all__ = ["CHECKSUMS", "STANCE_CONFIG", "ModelLoadError", "StanceClassifier", "StancePrediction"]


@dataclass(frozen=True)
class StancePrediction:
    """Stance of one text toward one topic: the top label, its probability, and all three."""

    label: str
    score: float
    scores: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def _as_list(value: str | Sequence[str | None] | None, n: int, name: str) -> list[str | None]:
    if value is None:
        return [None] * n
    if isinstance(value, str):
        return [value] * n
    value = list(value)
    if len(value) == 1 and n > 1:
        return value * n
    if len(value) != n:
        raise InputError(f"{name}: got {len(value)} values for {n} texts; give one or one per text")
    return value


class StanceClassifier:
    """Tokenizer, sequence-classification model and label map, with fast batched prediction."""

    def __init__(self, model, tokenizer, max_length: int = 128, name: str = "stance") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.name = name
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.labels = [self.id2label[i] for i in range(len(self.id2label))]
        self.quantized = False
        self.precision = "fp32"

    @classmethod
    def from_base(cls, base: str | Path, max_length: int = 128, dropout: float = 0.1):
        """A new classifier with a randomly initialised 3-way head on a local encoder folder."""
        path = Path(base)
        # a base encoder is not a trained folder: its checksum is pinned elsewhere or absent
        verify_folder(path, allow_unverified=True)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model_class = mean_pool_class(AutoConfig.from_pretrained(path).model_type)
        model = model_class.from_pretrained(
            path,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id={label: i for i, label in enumerate(LABELS)},
            hidden_dropout_prob=dropout,
        )
        return cls(model, tokenizer, max_length=max_length, name=path.name)

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
        verify_folder(path, allow_unverified=allow_unverified)
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
        extra = {}
        if (path / STANCE_CONFIG).is_file():
            extra = json.loads((path / STANCE_CONFIG).read_text())
        clf = cls(model, tokenizer, max_length=extra.get("max_length", 128), name=path.name)
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
        (folder / STANCE_CONFIG).write_text(json.dumps({"max_length": self.max_length}, indent=2))
        write_checksums(folder)

    def encode(self, texts: list[str], topics: list[str], contexts: list[str | None]) -> dict:
        """Tokenise (topic, text [SEP] context) pairs; the topic is never truncated away."""
        seconds = [
            t if not c else f"{t} {self.tokenizer.sep_token} {c}"
            for t, c in zip(texts, contexts, strict=True)
        ]
        return self.tokenizer(topics, seconds, truncation="only_second", max_length=self.max_length)

    def predict_proba(
        self,
        texts: str | Sequence[str],
        topics: str | Sequence[str],
        batch_size: int = 32,
        contexts: str | Sequence[str | None] | None = None,
        show_progress: bool = False,
    ) -> torch.Tensor:
        """Probabilities, shape (n, 3) in ``self.labels`` order, rows in input order."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        n = len(texts)
        if batch_size < 1:
            raise InputError(f"batch_size={batch_size}; must be at least 1")
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise InputError(f"texts[{i}] is empty or not a string")
        topic_list = _as_list(topics, n, "topics")
        for i, topic in enumerate(topic_list):
            if not isinstance(topic, str) or not topic.strip():
                raise InputError(f"topics[{i}] is empty or not a string")
        context_list = _as_list(contexts, n, "contexts")
        if n == 0:
            return torch.empty(0, len(self.labels))
        encoded = self.encode(texts, cast(list[str], topic_list), context_list)
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
        with torch.inference_mode(), autocast:
            for start in batches:
                idx = order[start : start + batch_size]
                features = [{k: encoded[k][i] for k in encoded} for i in idx]
                batch = self.tokenizer.pad(features, return_tensors="pt").to(device)
                logits = self.model(**batch).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu()
        return out

    def predict(
        self,
        texts: str | Sequence[str],
        topics: str | Sequence[str],
        batch_size: int = 32,
        contexts: str | Sequence[str | None] | None = None,
        show_progress: bool = False,
    ) -> list[StancePrediction]:
        """Stance of each text toward its topic.

        Args:
            texts: one text or a list.
            topics: one topic for all texts, or one per text.
            batch_size: examples per forward pass.
            contexts: optional sentence(s) around each quote, read after the quote.

        Returns:
            One :class:`StancePrediction` per text, in input order (always a list).

        Raises:
            ValueError: empty text or topic, or a topics/contexts list of the wrong length.
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
