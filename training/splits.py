"""The rows a stance config trains on and its dev split, rebuilt the same way every time.

:func:`training.train.train` trains on them; ``stance calibrate`` and ``stance adapt`` rebuild a
model's own dev split from its ``resolved_config.yaml`` (:func:`training.evaluate.model_dev_split`).
"""

from __future__ import annotations

import html
import logging
import random
import unicodedata
from collections.abc import Collection
from pathlib import Path

from stance.config import Config
from stance.data.examples import (
    SOURCES,
    Example,
    dataset_file,
    iter_file,
    load_source,
    split_dev,
    weigh,
)
from stance.data.labelstore import load_user_examples
from stance.errors import DataError, StanceError

logger = logging.getLogger(__name__)


_QUOTE_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def text_key(text: str) -> str:
    """How two copies of one text are recognised: case, spacing, HTML entities, Unicode forms and
    curly quotes aside, by their first 200 characters (29 of the VAST test comments that ARC's
    posts hold differ from ARC's copy only after them; GWSD train repeats a test sentence with a
    straight apostrophe where test has a curly one)."""
    folded = unicodedata.normalize("NFKC", html.unescape(text)).translate(_QUOTE_FOLD)
    return " ".join(folded.lower().split())[:200]


def held_out_texts(config: Config) -> set[str]:
    """Keys (:func:`text_key`) of the texts no training row may repeat: every held-out file of each
    ``data.eval`` set (for a named set each split but train, so that ``vast:test_zeroshot_clean``
    also keeps out the rest of VAST test), or the rows of a file or label store named there.

    Sets are built from each other: ARC's debate posts hold 675 of VAST test's 784 comments.

    Raises:
        DataError: a ``data.eval`` set, split or file that cannot be read.
    """
    keys: set[str] = set()
    for spec in config.data.eval:
        name, _, split = spec.partition(":")
        try:
            if name in SOURCES:
                folder = dataset_file(name, split or "test").parent
                files = [f for f in sorted(folder.glob("*.jsonl")) if not f.stem.startswith("train")]
                rows: list[Example] = [e for path in files for e in iter_file(path)]
            else:
                rows = load_user_examples(spec)
        except (StanceError, OSError) as err:
            raise DataError(
                f"data.eval entry {spec!r} is read (with --no-eval too) to keep its texts out of training, "
                f"and cannot be: {err}; fetch it (`stance data fetch`) or drop it from data.eval"
            ) from err
        keys |= {text_key(e.text) for e in rows}
    return keys


def add_swap_negatives(examples: list[Example], fraction: float, rng: random.Random) -> list[Example]:
    """Copy ``fraction`` of the rows under a topic borrowed from another row, labelled ``none``."""
    if fraction <= 0 or len({e.topic for e in examples}) < 2:
        return examples
    topics = [e.topic for e in examples]
    extra = []
    for e in rng.sample(examples, round(fraction * len(examples))):
        topic = rng.choice(topics)
        while topic.lower() == e.topic.lower():
            topic = rng.choice(topics)
        extra.append(Example(text=e.text, topic=topic, label="none", context=e.context))
    return examples + extra


def split_seed(config: Config) -> int:
    """The seed of the sampling and the dev split: ``data.split_seed``, or ``train.seed`` if it is -1."""
    return config.train.seed if config.data.split_seed < 0 else config.data.split_seed


def prepare_sources(
    config: Config, held_out: Collection[str] = frozenset()
) -> tuple[list[Example], dict[str, list[Example]], dict]:
    """Training rows, dev rows per source, and row counts per source.

    Each source (``data.train``, then ``data.extra``) is sampled and split with a generator of
    its own (``data.extra`` files go to train whole), seeded by ``data.split_seed`` (``train.seed``
    unless set) and the source's
    name and split, so adding a source (a screening lever) leaves every other source's train and
    dev rows as they were. Dev is disjoint from train by text and, for many-topic sets, by topic
    (:func:`stance.data.examples.split_dev`); at most ``data.max_dev_examples`` dev rows are
    kept, drawn across sources.

    Training rows whose :func:`text_key` is in ``held_out`` (``train`` passes
    :func:`held_out_texts`) are dropped last, after every draw, so the dev rows are the same with
    or without them (``stance calibrate`` rebuilds a model's dev split without reading its test
    sets; ``stance adapt`` reads them only to replay none of their texts); each source counts its
    dropped rows as ``held_out``, and a training row that repeats a dev text (in another form or
    from another source) as ``dev_repeat``.

    Raises:
        DataError: a ``data.extra`` file does not exist, or a row of a source is unusable.
    """
    for i, source in enumerate(config.data.extra):
        if not Path(source.name).is_file():
            raise DataError(
                f"data.extra[{i}]: {source.name}: no such file (a labelled JSONL/CSV file, such as "
                "`stance pseudo-label MODEL --output FILE.jsonl` writes)"
            )
    train: list[Example] = []
    dev: list[tuple[str, Example]] = []
    stats = {}
    source_of: dict[int, str] = {}  # id of a training row -> its source (for the counts below)
    extra = {id(source) for source in config.data.extra}
    seed = split_seed(config)
    for source in config.data.sources():
        rng = random.Random(f"{seed}:{source.name}:{source.split}")
        spec, examples = load_source(source, rng)
        # an extra file (pseudo-labels, say) is training rows only: its own dev split would
        # measure agreement with whoever labelled it, and split_dev drops many-topic rows whose
        # topic recurs, so a held-out share would simply be lost
        fraction = 0.0 if id(source) in extra else config.data.dev_fraction
        tr, dv = split_dev(examples, fraction, rng)
        # the weight shapes training only: dev holds each row once, so that a weighted source does
        # not also weigh more in checkpoint choice and the fitted temperature
        tr = weigh(tr, source.weight)
        held = sum(text_key(e.text) in held_out for e in tr)
        if held:
            logger.warning("source %s: %d training rows dropped, their text is in a test set", spec, held)
        logger.info(
            "source %s: %d training, %d dev (weight %.2f)", spec, len(tr) - held, len(dv), source.weight
        )
        train += tr
        source_of.update((id(e), spec) for e in tr)
        dev += [(spec, e) for e in dv]
        stats[spec] = {
            "train": len(tr) - held,
            "dev": len(dv),
            **({"held_out": held} if held else {}),
            **({"soft_labels": True} if source.soft_labels else {}),
        }
    rng = random.Random(seed)
    train = add_swap_negatives(train, config.data.swap_negatives, rng)
    rng.shuffle(train)
    kept = list(range(len(dev)))
    rng.shuffle(kept)
    if seed != config.train.seed:  # the split is shared, the order is this run's own
        random.Random(config.train.seed).shuffle(train)
    keep = set(kept[: config.data.max_dev_examples])
    dev_by_source: dict[str, list[Example]] = {spec: [] for spec in stats}
    for i, (spec, e) in enumerate(dev):
        if i in keep:  # each source's rows stay in that source's own order
            dev_by_source[spec].append(e)
    # a training row that repeats a dev text in another form (a curly apostrophe, an entity) or
    # from another source (ARC's posts hold VAST's comments) is dropped too, after every draw
    dev_keys = {text_key(e.text) for rows in dev_by_source.values() for e in rows}
    repeats: dict[str, int] = {}
    for e in train:
        key = text_key(e.text)
        if key in dev_keys and key not in held_out:  # a test text is counted once, as held_out
            spec = source_of.get(id(e), "swap negatives")
            repeats[spec] = repeats.get(spec, 0) + 1
    if repeats:
        logger.warning("training rows dropped, their text is in the dev split: %s", repeats)
        train = [e for e in train if text_key(e.text) not in dev_keys]
        for spec, n in repeats.items():
            if spec in stats:
                stats[spec]["train"] -= n
                stats[spec]["dev_repeat"] = n
    if held_out:  # last: the draws above see the same rows whatever is held out
        train = [e for e in train if text_key(e.text) not in held_out]
        for spec, rows in dev_by_source.items():
            # kept, so that the split is the one `stance calibrate` rebuilds; counted, so it is seen
            repeated = sum(text_key(e.text) in held_out for e in rows)
            if repeated:
                logger.warning("source %s: %d dev rows repeat a test text (kept in dev)", spec, repeated)
                stats[spec]["dev_held_out"] = repeated
    if not train:
        raise DataError(
            "no training examples after the dev split and the rows held out as test or dev texts "
            f"({ {spec: s.get('held_out', 0) + s.get('dev_repeat', 0) for spec, s in stats.items()} }); "
            "check data.train"
        )
    return train, dev_by_source, stats


def prepare_data(config: Config) -> tuple[list[Example], list[Example], dict]:
    """Load and mix the configured sources and carve a dev split disjoint by topic and text.

    The dev rows come in a fixed order for the config (see :func:`prepare_sources`), so
    ``stance calibrate`` rebuilds a model's own dev split from its ``resolved_config.yaml``.
    """
    train, dev_by_source, stats = prepare_sources(config)
    return train, [e for rows in dev_by_source.values() for e in rows], stats
