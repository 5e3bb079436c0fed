"""Shared fixtures: a tiny random-init BERT and tokenizer on disk, loaded through the real
``from_pretrained`` path, and a tiny labelled data folder. Nothing is downloaded."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

WORDS = (
    "the a we will not sign deal accord iran russia talks good bad support oppose love hate "
    "nuclear power tax taxes cut raise climate change war peace is are it this that great "
    "terrible agree disagree favor against none yes no vote for jcpoa afghanistan"
).split()


def _write_vocab(path: Path) -> None:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = [f"##{c}" for c in string.ascii_lowercase + string.digits]
    vocab = list(dict.fromkeys(special + WORDS + chars + pieces))
    path.write_text("\n".join(vocab) + "\n")


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide random BERT encoder saved like the real base encoder folder."""
    return build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))


def build_tiny_base(folder: Path, family: str = "bert") -> Path:
    """Save a 2-layer, 32-wide random encoder and its tokenizer in ``folder``.

    ``family`` is ``bert`` or ``mpnet``; both read the same WordPiece vocabulary (MPNet's own
    tokenizer is WordPiece too), so only the encoder differs.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast, MPNetConfig, MPNetModel

    folder.mkdir(parents=True, exist_ok=True)
    _write_vocab(folder / "vocab.txt")
    tokenizer = BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(folder)
    size = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
    torch.manual_seed(0)
    if family == "mpnet":
        # MPNet numbers positions from the padding index + 1, so it needs two more than BERT's 128
        mpnet = MPNetConfig(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            max_position_embeddings=130,
            **size,
        )
        MPNetModel(mpnet).save_pretrained(folder)
    else:
        BertModel(
            BertConfig(vocab_size=tokenizer.vocab_size, max_position_embeddings=128, **size)
        ).save_pretrained(folder)
    return folder


SMOKE_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
# What makes configs/smoke.yaml train on the tiny encoder in seconds: short inputs, no dev split,
# no evaluation sets, no early stopping, one thread.
TINY_OVERRIDES = {
    "model.max_length": "32",
    "data.dev_fraction": "0",
    "data.eval": "[]",
    "train.batch_size": "8",
    "train.eval_steps": "1000",
    "train.patience": "0",
    "train.num_threads": "1",
}


def tiny_overrides(tiny_base: Path, overrides: dict | None = None) -> dict[str, str]:
    """The dotted overrides of a tiny training run (``{"train.lr": "3e-3"}`` on top)."""
    values = {"model.base": str(tiny_base), **TINY_OVERRIDES}
    values.update({k: str(v) for k, v in (overrides or {}).items()})
    return values


def tiny_config(tiny_base: Path, overrides: dict | None = None, **train):
    """The one factory of tiny training configs: smoke.yaml on the tiny encoder, plus dotted
    ``overrides`` and ``train.*`` keywords (``tiny_config(base, max_steps=3)``)."""
    from stance.config import load_config

    extra = {**(overrides or {}), **{f"train.{k}": v for k, v in train.items()}}
    return load_config(SMOKE_CONFIG, tiny_overrides(tiny_base, extra))


def tiny_cli_args(tiny_base: Path, overrides: dict | None = None) -> list[str]:
    """The same tiny run as ``stance train`` / ``python -m training train`` arguments."""
    pairs = tiny_overrides(tiny_base, overrides).items()
    return [str(SMOKE_CONFIG), *(arg for key, value in pairs for arg in (f"--{key}", value))]


@pytest.fixture(scope="session")
def tiny_model(tiny_base, tmp_path_factory) -> Path:
    """A saved (untrained) stance classifier on the tiny encoder."""
    from stance.model.classifier import StanceClassifier

    folder = tmp_path_factory.mktemp("tiny-stance") / "model"
    StanceClassifier.from_base(tiny_base, max_length=32).save_pretrained(folder)
    return folder


ROWS = [
    ("we support the deal", "the deal", "favor"),
    ("we love the accord", "the accord", "favor"),
    ("great deal for iran", "iran", "favor"),
    ("we oppose the deal", "the deal", "against"),
    ("we hate the accord", "the accord", "against"),
    ("terrible deal for iran", "iran", "against"),
    ("the talks are about tax", "climate change", "none"),
    ("vote for peace", "nuclear power", "none"),
]


@pytest.fixture()
def data_dir(tmp_path, monkeypatch) -> Path:
    """A STANCE_DATA_DIR with a tiny 'vast' set (train/test) in the normalized layout."""
    folder = tmp_path / "data" / "stance" / "vast" / "normalized"
    folder.mkdir(parents=True)
    train = [
        {"text": f"{t} {i}", "topic": f"{topic} {i % 7}", "label": label}
        for i in range(6)
        for t, topic, label in ROWS
    ]
    for name, rows in {
        "train": train,
        "test": [{"text": t, "topic": topic, "label": label} for t, topic, label in ROWS],
    }.items():
        with open(folder / f"{name}.jsonl", "w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    monkeypatch.setenv("STANCE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(autouse=True)
def _private_cache(request, tmp_path_factory, monkeypatch):
    """Fast tests never touch the user's cache (encoders, tokenised data); slow tests may."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        # rules only: a trained models/attribution in the working tree must not change fast tests
        monkeypatch.setenv("STANCE_TAGGER_PATH", "")
