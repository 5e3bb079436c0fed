"""Typed training configuration, loaded from YAML with dotted command-line overrides.

Precedence: dataclass defaults < YAML file < overrides such as ``--train.lr 3e-5``.
Every value is validated once, in :func:`validate`, and errors name the key, the value and what
is allowed.
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from stance.errors import ConfigError

__all__ = ["Config", "ConfigError", "load_config", "save_config", "validate", "find_config"]


@dataclass
class DataSource:
    """One training source: a dataset name (``vast``) or a JSONL/CSV path, mixed in with a weight."""

    name: str
    split: str = "train"
    weight: float = 1.0
    max_examples: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    # learn the annotators' label distribution where the rows give one (GWSD's probabilities from
    # its eight raters; a file's p_favor / p_against / p_none), not only its label (data.train
    # and data.extra alike)
    soft_labels: bool = False


@dataclass
class DataConfig:
    train: list[DataSource] = field(default_factory=lambda: [DataSource("vast")])
    dev_fraction: float = 0.1
    eval: list[str] = field(default_factory=lambda: ["vast:test_zeroshot_clean"])
    max_dev_examples: int = 1500
    # Seed of the sampling and the dev split; -1 follows train.seed. Runs that differ only in
    # train.seed (init, order, dropout) but share one split are members of one ensemble whose dev
    # figures no member has trained on.
    split_seed: int = -1
    # Topic-swap negatives: this fraction of training rows is copied under a topic drawn from
    # another source row and labelled none, so `none` also means "not about this topic".
    swap_negatives: float = 0.0
    # Labelled JSONL/CSV files read after data.train, each a source of its own (a path, or a
    # mapping like a data.train entry). A list of its own so that `--data.extra FILE.jsonl` adds
    # a file (pseudo-labelled news quotes, your labels) without restating the sources.
    extra: list[DataSource] = field(default_factory=list)

    def sources(self) -> list[DataSource]:
        """Every source training reads: ``data.train``, then ``data.extra``."""
        return [*self.train, *self.extra]


@dataclass
class ModelConfig:
    # A registered encoder (minilm, mpnet; see stance/model/encoders.py) or a local folder.
    base: str = "minilm"
    max_length: int = 128
    # Tokens the saved model reads at prediction (0: max_length). Training and its dev checkpoints
    # read max_length; the final dev figures, the temperature and every prediction read this, so
    # a model trained on short pieces still reads a long comment whole.
    read_length: int = 0
    dropout: float = 0.1
    # Dropout on the attention probabilities while training; -1 keeps the base's (0.1 for MiniLM and
    # mpnet). Its random mask over batch x heads x length x length scores is a share of every step
    # on a CPU (benchmarks/tagger_train_step.py --task stance).
    attention_dropout: float = -1.0
    # The topic as an NLI-style hypothesis, e.g. "The author is in favor of {topic}."; empty reads
    # the topic as is. Saved in the model folder, so prediction reads topics the same way.
    topic_template: str = ""
    # Keep this many of the base's encoder layers, evenly spaced from the first (12 -> 6 keeps
    # 0, 2, ..., 10); 0 keeps them all. With a trained stance folder as base (the large model),
    # its head too: a student that starts from half its teacher.
    layers: int = 0


@dataclass
class TrainConfig:
    lr: float = 5e-5
    epochs: float = 2.0
    batch_size: int = 32
    eval_batch_size: int = 64
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    eval_steps: int = 200
    patience: int = 3
    max_steps: int = -1
    # stop after this many minutes of training whatever the step (dev scored and the best
    # checkpoint kept as at the end), the learning rate decaying to 0 by the clock; 0: no limit
    max_minutes: float = 0.0
    seed: int = 42
    num_threads: int = 0
    label_smoothing: float = 0.0
    # auto: bf16 autocast where the CPU has AVX512-BF16/AMX or the GPU supports bf16, else fp32.
    precision: str = "auto"


@dataclass
class DistillConfig:
    """Train on a teacher's probabilities instead of (or beside) the gold labels.

    ``teacher`` empty means no distillation. When the teacher folder is absent, training falls
    back to gold labels (so the default config still trains on a fresh machine).
    """

    teacher: str = ""
    # Weight of the gold-label loss next to the teacher's soft labels (0 = teacher only).
    hard_weight: float = 0.0
    # Quotes found by extract_quotes in unlabelled news (PolNeAR articles), each paired with its
    # article's headline as topic and with one unrelated headline; 0 turns this off, -1 takes
    # every pair PolNeAR's train articles give.
    news_quotes: int = 0
    # Weight of a cosine term pulling a linear map of the student's mean-pooled vector towards the
    # teacher's (0 = off): the teacher's 768 numbers per row say more than its three probabilities.
    embedding_weight: float = 0.0
    # Sets or files whose texts the teacher labels for the student (entries like data.train's):
    # their labels are not read (a file needs only text and topic), the teacher's distribution is
    # each row's whole target. A row whose text the student's dev split or a
    # data.eval set holds is dropped before max_examples cuts the rest (ARC's debate posts include
    # 675 of VAST test's 784 comments).
    unlabelled: list[DataSource] = field(default_factory=list)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# tokens a stance model may read (BERT-style position tables stop at 512)
LENGTH_RANGE = (8, 512)

_RANGES: dict[str, tuple[float, float]] = {
    "model.layers": (0, 48),
    "data.dev_fraction": (0.0, 0.5),
    "data.max_dev_examples": (1, 1_000_000),
    "data.split_seed": (-1, 2**31 - 1),
    "model.max_length": LENGTH_RANGE,
    "model.read_length": (0, LENGTH_RANGE[1]),
    "model.dropout": (0.0, 0.9),
    "model.attention_dropout": (-1.0, 0.9),
    "train.lr": (1e-7, 1e-2),
    "train.epochs": (0.01, 1000),
    "train.batch_size": (1, 4096),
    "train.eval_batch_size": (1, 4096),
    "train.warmup_ratio": (0.0, 0.5),
    "train.weight_decay": (0.0, 1.0),
    "train.eval_steps": (1, 1_000_000),
    "train.patience": (0, 1000),
    "train.max_minutes": (0, 10_000),
    "train.num_threads": (0, 1024),
    "train.label_smoothing": (0.0, 0.5),
    "data.swap_negatives": (0.0, 1.0),
    "distill.hard_weight": (0.0, 1.0),
    "distill.news_quotes": (-1, 1_000_000),
    "distill.embedding_weight": (0.0, 10.0),
}
_CHOICES: dict[str, tuple[str, ...]] = {"train.precision": ("auto", "bf16", "fp32")}
_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "distill": DistillConfig}


def _build(cls: type, values: dict[str, Any], prefix: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {values!r}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key {prefix}{unknown[0]}; allowed under {prefix or 'top level'}: "
            f"{', '.join(sorted(known))}"
        )
    required = [
        name
        for name, f in known.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in values]
    if missing:  # a source given as a mapping without its name ({weight: 2})
        raise ConfigError(f"missing key {prefix}{missing[0]}; required under {prefix.rstrip('.')}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        key = f"{prefix}{name}"
        if name == "train" and cls is DataConfig:
            if not isinstance(value, list) or not value:
                raise ConfigError(f"{key}: expected a non-empty list of sources, got {value!r}")
            kwargs[name] = _build_sources(value, key)
        elif (name, cls) in (("extra", DataConfig), ("unlabelled", DistillConfig)):
            # one file or set on the command line (--data.extra FILE.jsonl) is a list of one
            value = [] if value is None else [value] if isinstance(value, (str, dict)) else value
            if not isinstance(value, list):
                what = "a file path" if name == "extra" else "a set name, a file path"
                raise ConfigError(f"{key}: expected {what} or a list of them, got {value!r}")
            kwargs[name] = _build_sources(value, key)
        elif name in _SECTIONS and cls is Config:
            kwargs[name] = _build(_SECTIONS[name], value, f"{key}.")
        else:
            kwargs[name] = value
    return cls(**kwargs)


def _build_sources(values: list, key: str) -> list[DataSource]:
    """``data.train``, ``data.extra`` or ``distill.unlabelled`` entries: a name or path, or a mapping
    of DataSource fields."""
    return [
        _build(DataSource, {"name": v} if isinstance(v, str) else v, f"{key}[{i}].")
        for i, v in enumerate(values)
    ]


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Bring a YAML or command-line value to the type of the default, or raise naming the key.

    A list of strings takes one string as a list of one (``--data.eval vast:test``); a mapping
    must map strings to strings.
    """
    if default is None:
        return value
    if isinstance(default, list):
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{key}: expected a list of names, got {value!r}")
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in [*value, *value.values()]):
            raise ConfigError(f"{key}: expected a mapping of names to names, got {value!r}")
        return value
    expected = type(default)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    try:
        if expected is bool:
            if isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}:
                return value.lower() in {"true", "1"}
            raise ValueError
        if expected is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        if expected is str and isinstance(value, (list, dict)):
            raise ValueError
        return expected(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected {expected.__name__}, got {value!r}") from None


def validate(config: Config) -> Config:
    """Coerce types and check ranges; returns the same config.

    Raises:
        ConfigError: naming the bad key, its value and the allowed range.
    """
    defaults = Config()
    for section in _SECTIONS:
        obj, ref = getattr(config, section), getattr(defaults, section)
        for f in dataclasses.fields(obj):
            key = f"{section}.{f.name}"
            if key in _SOURCE_LISTS:
                continue  # built by _build_sources, each source checked below
            value = _coerce(key, getattr(obj, f.name), getattr(ref, f.name))
            setattr(obj, f.name, value)
            if key in _RANGES:
                low, high = _RANGES[key]
                if not low <= value <= high:
                    raise ConfigError(f"{key}={value!r} is out of range; allowed {low} to {high}")
            if key in _CHOICES and value not in _CHOICES[key]:
                raise ConfigError(f"{key}={value!r}; allowed: {', '.join(_CHOICES[key])}")
    if 0 < config.model.read_length < LENGTH_RANGE[0]:
        raise ConfigError(
            f"model.read_length={config.model.read_length} is too short; 0 (read max_length) "
            f"or {LENGTH_RANGE[0]} to {LENGTH_RANGE[1]}"
        )
    check_topic_template(config.model.topic_template, "model.topic_template")
    _check_distill(config)
    for key, source in _keyed_sources(config):
        _check_source(source, key)
    for i, source in enumerate(config.distill.unlabelled):
        if source.soft_labels:
            raise ConfigError(
                f"distill.unlabelled[{i}].soft_labels: the rows' own labels are not read (the teacher's "
                "distribution is their target); drop soft_labels there"
            )
    for i, source in enumerate(config.data.extra):
        if Path(source.name).suffix.lower() not in DATA_FILE_SUFFIXES:
            raise ConfigError(
                f"data.extra[{i}].name={source.name!r}: expected a labelled file "
                f"({', '.join(DATA_FILE_SUFFIXES)}); name data sets under data.train"
            )
    soft = [key for key, source in _keyed_sources(config) if source.soft_labels]
    if soft and config.train.label_smoothing:
        # the Trainer's label smoother takes integer labels and drops the model's own loss
        raise ConfigError(
            f"{soft[0]}.soft_labels cannot be used with train.label_smoothing="
            f"{config.train.label_smoothing}: the label distribution is already soft; set one of them off"
        )
    return config


_SOURCE_LISTS = ("data.train", "data.extra", "distill.unlabelled")


def _keyed_sources(config: Config) -> list[tuple[str, DataSource]]:
    return [
        (f"{key}[{i}]", source)
        for key, sources in zip(
            _SOURCE_LISTS, (config.data.train, config.data.extra, config.distill.unlabelled), strict=True
        )
        for i, source in enumerate(sources)
    ]


def _check_distill(config: Config) -> None:
    """Settings that only mean something together with a teacher, or that cannot go with one."""
    if config.distill.embedding_weight and not config.distill.teacher:
        raise ConfigError(
            f"distill.embedding_weight={config.distill.embedding_weight} needs distill.teacher "
            "(the model whose vectors the student learns); set the teacher or the weight to 0"
        )
    if config.distill.unlabelled and not config.distill.teacher:
        raise ConfigError(
            "distill.unlabelled needs distill.teacher (the model that labels those rows); set the "
            "teacher or drop the unlabelled sources"
        )
    if config.distill.teacher and config.train.label_smoothing:
        # the Trainer's label smoother takes integer labels and drops the model's own loss
        raise ConfigError(
            f"train.label_smoothing={config.train.label_smoothing} cannot be used with distill.teacher: "
            "the teacher's probabilities are already soft targets; set it to 0"
        )


DATA_FILE_SUFFIXES = (".jsonl", ".json", ".csv")
"""What :func:`stance.data.examples.iter_file` reads: CSV by its suffix, the others as JSONL."""


def _check_source(source: DataSource, key: str) -> None:
    if not isinstance(source.name, str) or not source.name:
        raise ConfigError(f"{key}.name: expected a dataset name or path")
    source.split = _coerce(f"{key}.split", source.split, "train")
    source.columns = _coerce(f"{key}.columns", source.columns, {})
    source.weight = _coerce(f"{key}.weight", source.weight, 1.0)
    source.soft_labels = _coerce(f"{key}.soft_labels", source.soft_labels, False)
    if not 0 < source.weight <= 100:
        raise ConfigError(f"{key}.weight={source.weight!r}; allowed (0, 100]")
    if source.max_examples is not None:
        source.max_examples = _coerce(f"{key}.max_examples", source.max_examples, 1)
        if source.max_examples < 1:
            raise ConfigError(f"{key}.max_examples must be at least 1")


def check_topic_template(template: str | None, key: str = "topic template") -> str | None:
    """A topic template names ``{topic}`` once and no other field; empty or None means none.

    Raises:
        ConfigError: naming ``key``, the template and what is wrong with it.

    Example:
        >>> check_topic_template("The author is in favor of {topic}.")
        'The author is in favor of {topic}.'
    """
    if not template:
        return None
    if not isinstance(template, str):
        raise ConfigError(f"{key}: expected a string holding {{topic}}, got {template!r}")
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise ConfigError(f"{key}={template!r}: {err}") from None
    if fields != ["topic"]:
        raise ConfigError(
            f"{key}={template!r} must hold {{topic}} exactly once and no other {{field}} "
            f"(found {', '.join(fields) or 'none'}); e.g. 'The author is in favor of {{topic}}.'"
        )
    try:  # a conversion or format spec ({topic!z}, {topic:d}) fails only when filled
        template.format(topic="a topic")
    except (ValueError, IndexError, KeyError, AttributeError) as err:
        raise ConfigError(f"{key}={template!r}: {err}; write the topic as plain {{topic}}") from None
    return template


def parse_scalar(text: str) -> Any:
    """A command-line value read as YAML (``3e-5``, ``[a, b]``, ``true``); text YAML cannot read
    (``[1``) stays a string, so the key's type check names it."""
    if text == "":
        return ""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_overrides(args: list[str]) -> dict[str, str]:
    """``["--train.lr", "3e-5", "--model.base=x"]`` -> ``{"train.lr": "3e-5", "model.base": "x"}``.

    Raises:
        ConfigError: an argument that is not ``--section.key``, or one without a value.
    """
    overrides: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --train.lr 3e-5")
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            raise ConfigError(f"override {arg} has no value")
        overrides[key] = value
    return overrides


def apply_overrides(raw: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Set dotted keys (``train.lr``) in a nested dict; values are parsed as YAML scalars."""
    for dotted, text in overrides.items():
        parts = dotted.split(".")
        if len(parts) != 2 or parts[0] not in _SECTIONS:
            raise ConfigError(
                f"override --{dotted}: expected --section.key with section {', '.join(_SECTIONS)}"
            )
        raw.setdefault(parts[0], {})
        if not isinstance(raw[parts[0]], dict):
            raise ConfigError(f"{parts[0]}: expected a mapping")
        raw[parts[0]][parts[1]] = parse_scalar(text)
    return raw


CONFIG_PACKAGE = "configs"
"""The YAML files in the repository's ``configs/`` folder ship as this package, so an installed
wheel finds ``quick.yaml`` without the source tree."""


def packaged_configs() -> list[str]:
    """Names of the configs that ship with the package (``default.yaml``, ``quick.yaml``, ...)."""
    folder = resources.files(CONFIG_PACKAGE)
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))


def find_config(spec: str | Path) -> Path:
    """A config file by path, or by the name of a packaged one.

    ``configs/quick.yaml`` is found relative to the working directory first; when that file is
    not there (an installed wheel, another working directory), the packaged ``quick.yaml`` is used.
    ``quick`` and ``quick.yaml`` name the packaged file directly.

    Raises:
        ConfigError: neither a file nor a packaged config has that name.
    """
    path = Path(spec)
    if path.is_file():
        return path
    name = path.name if path.suffix else f"{path.name}.yaml"
    packaged = resources.files(CONFIG_PACKAGE) / name
    if packaged.is_file():
        return Path(str(packaged))
    raise ConfigError(
        f"config file {spec} does not exist (packaged configs: {', '.join(packaged_configs())})"
    )


def read_yaml(spec: str | Path) -> dict[str, Any]:
    """The mapping a config file holds (found by :func:`find_config`); empty file, empty mapping.

    Raises:
        ConfigError: the file is missing, unreadable, not UTF-8, not YAML or not a mapping.
    """
    path = find_config(spec)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a YAML text file (invalid UTF-8 at byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        # one line: the problem and where, not PyYAML's multi-line snippet
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or err
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    return raw


def load_config(path: str | Path | None = None, overrides: dict[str, str] | None = None) -> Config:
    """Load defaults, then the YAML file, then dotted overrides, and validate.

    Example:
        >>> cfg = load_config("configs/smoke.yaml", {"train.lr": "3e-5"})
    """
    raw = read_yaml(path) if path is not None else {}
    raw = apply_overrides(raw, overrides or {})
    return validate(_build(Config, raw, ""))


def save_config(config: Config, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
