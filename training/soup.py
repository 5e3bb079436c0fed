"""``stance soup``: one stance model from several runs of one recipe, their weights averaged.

Runs that differ only in ``train.seed`` (head initialisation, sample order, dropout) and share one
sampling and dev split (``data.split_seed``) start from the same encoder; where fine-tuning leaves
them near each other, the mean of their weights reads like the mean of their logits (the head is one
linear layer on a mean-pooled vector) at the cost of one model (Wortsman et al., "Model soups",
2022). Whether it did is measured, not assumed: the soup is scored and calibrated on the members'
shared dev split, its figures beside each member's on the same rows, and its temperature says how
far its logits shrank (the shipped recipes' soups needed about 0.5 and were no better than their
better member: docs/experiments.md, session 26). The soup is a model folder like any other:
``stance evaluate``, ``stance calibrate``, ``distill.teacher`` and the service read it as they read a
trained one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from stance.atomic import atomic_dir
from stance.config import Config, load_config, save_config
from stance.errors import InputError, ModelNotFoundError
from stance.model.classifier import StanceClassifier
from stance.model.folder import MODEL_CARD, RESOLVED_CONFIG, TRAIN_RESULTS, read_train_results
from training.evaluate import dev_report
from training.splits import prepare_sources, split_seed

logger = logging.getLogger(__name__)

# what members must share besides their split: what the model is and how it reads
_SHARED_MODEL_KEYS = ("base", "max_length", "read_length", "topic_template", "layers")


def write_soup(folders: Sequence[str | Path], output: str | Path, batch_size: int = 64) -> dict:
    """Average the weights of stance model folders trained on one split into ``output``.

    The soup is calibrated on the members' shared dev split and its ``train_results.json`` holds
    its dev figures per source beside each member's; the folder is written atomically.

    Returns:
        The soup's ``train_results.json`` contents.

    Raises:
        InputError: fewer than two folders, ``output`` among them, or members that do not share
            an architecture, a tokenizer, a reading length or a dev split (train members with
            ``--data.split_seed``).
        ModelNotFoundError, ModelLoadError, DataError: a member that cannot be loaded, or whose
            dev split cannot be rebuilt.
    """
    started = time.time()
    paths = [Path(f) for f in folders]
    if len(paths) < 2:
        raise InputError(f"a soup needs at least two model folders, got {len(paths)}")
    if Path(output).resolve() in {p.resolve() for p in paths}:
        raise InputError(f"--output {output} is one of the members; write the soup to a folder of its own")
    configs = [_member_config(p) for p in paths]
    _check_one_recipe(paths, configs)
    members = [StanceClassifier.from_pretrained(p) for p in paths]
    states = [m.model.state_dict() for m in members]
    _check_one_architecture(paths, members, states)

    soup = members[0]
    soup.model.load_state_dict(_mean(states))
    soup.calibration = None
    _, dev_by_source, _ = prepare_sources(configs[0])
    soup.calibration, figures = dev_report(soup, dev_by_source, batch_size)
    trained = [read_train_results(p) for p in paths]
    first = trained[0]
    results = {
        "soup_of": [
            {
                "folder": str(p),
                "seed": c.train.seed,
                "wall_seconds": r.get("wall_seconds"),
                "dev_by_source": r.get("dev_by_source", {}),
            }
            for p, c, r in zip(paths, configs, trained, strict=True)
        ],
        "split_seed": split_seed(configs[0]),
        "train_examples": first.get("train_examples"),
        "dev_examples": sum(len(rows) for rows in dev_by_source.values()),
        "sources": first.get("sources", {}),
        "dev_by_source": figures,
        "calibration": soup.calibration.to_dict() if soup.calibration else None,
        "base_encoder": first.get("base_encoder", {}),
        "kept_layers": first.get("kept_layers"),
        "distill": first.get("distill", {}),
        "read_length": soup.max_length,
        "world_size": 1,
        # the members' training and the soup's own averaging and scoring
        "wall_seconds": round(sum(r.get("wall_seconds") or 0 for r in trained) + time.time() - started, 1),
    }
    with atomic_dir(output) as tmp:
        soup.write_to(tmp)
        save_config(configs[0], tmp / RESOLVED_CONFIG)
        (tmp / TRAIN_RESULTS).write_text(json.dumps(results, indent=2))
        _write_card(tmp, configs[0], results, Path(output).name)
    logger.info("soup of %d models written to %s", len(paths), output)
    return results


def _member_config(path: Path) -> Config:
    if not path.is_dir():
        raise ModelNotFoundError(f"{path}: no such model folder")
    if not (path / RESOLVED_CONFIG).is_file():
        raise InputError(f"{path}: no {RESOLVED_CONFIG}; a soup's members are folders `stance train` wrote")
    return load_config(path / RESOLVED_CONFIG)


def _check_one_recipe(paths: Sequence[Path], configs: Sequence[Config]) -> None:
    """Members share their data, their split and how they read; only what the seed moves may differ."""
    first, name = configs[0], paths[0]
    for path, config in zip(paths[1:], configs[1:], strict=True):
        if split_seed(config) != split_seed(first) or _data_of(config) != _data_of(first):
            raise InputError(
                f"{path} and {name} were not trained on one split (split seeds {split_seed(config)} "
                f"and {split_seed(first)}, or other data): train the members with the same "
                "--data.split_seed so that no member has trained on the rows the soup is scored on"
            )
        for key in _SHARED_MODEL_KEYS:
            if getattr(config.model, key) != getattr(first.model, key):
                raise InputError(
                    f"{path} and {name} differ in model.{key} ({getattr(config.model, key)!r} and "
                    f"{getattr(first.model, key)!r}): a soup averages runs of one recipe"
                )


def _data_of(config: Config) -> dict:
    """The data section, its split seed aside (-1 and the seed it follows are one split)."""
    data = dataclasses.asdict(config.data)
    data.pop("split_seed")
    return data


def _check_one_architecture(
    paths: Sequence[Path], members: Sequence[StanceClassifier], states: Sequence[dict]
) -> None:
    first = members[0]
    shapes = _shapes(states[0])
    for path, member, state in zip(paths[1:], members[1:], states[1:], strict=True):
        if type(member.model) is not type(first.model) or _shapes(state) != shapes:
            raise InputError(f"{path} and {paths[0]} do not share an architecture")
        if member.tokenizer.get_vocab() != first.tokenizer.get_vocab() or member.labels != first.labels:
            raise InputError(f"{path} and {paths[0]} do not share a tokenizer and label order")


def _shapes(state: dict) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def _mean(states: Sequence[dict]) -> dict:
    """The mean of each floating-point tensor in fp32; other tensors (position ids) as the first's."""
    out = {}
    for key, value in states[0].items():
        if value.is_floating_point():
            out[key] = (torch.stack([s[key].float() for s in states]).mean(0)).to(value.dtype)
        else:
            out[key] = value
    return out


def _write_card(folder: Path, config: Config, results: dict, name: str) -> None:
    from training.train import write_model_card

    write_model_card(folder, config, {**results, "train_examples": results["train_examples"] or 0}, {}, name)
    sources = list(results["dev_by_source"])
    header = " | ".join(s.split(":")[0] for s in sources)
    lines = [
        "",
        "## Soup",
        "",
        f"The mean of the weights of {len(results['soup_of'])} runs of this recipe (`stance soup`), "
        f"split seed {results['split_seed']}; dev macro-F1 per source on the rows they share:",
        "",
        f"| model | seed | {header} |",
        "|---|---|" + "---|" * len(sources),
    ]
    for member in results["soup_of"]:
        cells = " | ".join(_f1(member["dev_by_source"].get(s)) for s in sources)
        lines.append(f"| `{Path(member['folder']).name}` | {member['seed']} | {cells} |")
    cells = " | ".join(_f1(results["dev_by_source"][s]) for s in sources)
    lines.append(f"| **soup** | | {cells} |")
    with open(folder / MODEL_CARD, "a", encoding="utf-8") as card:
        card.write("\n".join(lines) + "\n")


def _f1(figures: dict | None) -> str:
    return f"{figures['macro_f1']:.3f}" if figures else "-"
