"""The one place where our config becomes transformers' ``TrainingArguments``.

=============================  =====================================  ==================================
config key                     TrainingArguments                      note
=============================  =====================================  ==================================
``train.lr``                   ``learning_rate``
``train.epochs``               ``num_train_epochs``
``train.max_steps``            ``max_steps``                          -1: run the epochs
``train.batch_size``           ``per_device_train_batch_size``        per process under torchrun
``train.eval_batch_size``      ``per_device_eval_batch_size``
``train.warmup_ratio``         ``warmup_steps``                       a float < 1 is a ratio in 5.x
``train.weight_decay``         ``weight_decay``
``train.label_smoothing``      ``label_smoothing_factor``
``train.precision``            ``bf16``                               auto: where the CPU/GPU has it
``train.eval_steps``           ``eval_steps``, ``save_steps``         checkpoints where dev is scored
                               ``logging_steps``                      a quarter of eval_steps
``train.seed``                 ``seed``, ``data_seed``
(a dev split exists)           ``eval_strategy``, ``load_best_model_at_end``  best dev macro-F1 wins
(torchrun without CUDA)        ``ddp_backend="gloo"``
=============================  =====================================  ==================================

Fixed choices: two checkpoints kept, length-grouped batches, no external loggers, no data loader
processes (CPU cores go to the model), full checkpoints (optimizer included) so ``--resume`` works.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from stance.config import Config
from stance.model.classifier import cpu_has_fast_bf16


def use_bf16(precision: str) -> bool:
    """bf16 autocast for ``auto`` where the hardware runs it natively, or when asked for."""
    if precision == "bf16":
        return True
    if precision == "fp32":
        return False
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return cpu_has_fast_bf16()


def world_size() -> int:
    """Processes in this run (``WORLD_SIZE`` under torchrun, else 1)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def training_arguments(config: Config, checkpoints: Path, has_dev: bool) -> Any:
    """``TrainingArguments`` for ``config``, checkpoints under ``checkpoints``.

    Args:
        config: a validated config.
        checkpoints: the folder for Trainer checkpoints (``<output>.work/checkpoints``).
        has_dev: whether a dev split exists (evaluation and best-model selection need one).
    """
    from transformers import TrainingArguments

    train = config.train
    cpu = not torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(checkpoints),
        learning_rate=train.lr,
        num_train_epochs=train.epochs,
        max_steps=train.max_steps,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.eval_batch_size,
        warmup_steps=train.warmup_ratio,
        weight_decay=train.weight_decay,
        label_smoothing_factor=train.label_smoothing,
        bf16=use_bf16(train.precision),
        eval_strategy="steps" if has_dev else "no",
        eval_steps=train.eval_steps,
        save_strategy="steps",
        save_steps=train.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=has_dev,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        train_sampling_strategy="group_by_length",
        logging_steps=max(1, train.eval_steps // 4),
        report_to="none",
        seed=train.seed,
        data_seed=train.seed,
        use_cpu=cpu,
        ddp_backend="gloo" if world_size() > 1 and cpu else None,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
        save_only_model=False,
    )
