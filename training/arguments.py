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
``train.max_minutes``          ``lr_scheduler_type="constant"``       + :func:`time_limit`: the clock sets lr
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

import logging
import os
import time
from pathlib import Path
from typing import Any

import torch

from stance.config import Config
from stance.model.classifier import cpu_has_fast_bf16

logger = logging.getLogger(__name__)


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
        # with a time limit the callback (time_limit) sets the learning rate by the clock
        lr_scheduler_type="constant" if train.max_minutes else "linear",
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


def time_limit(minutes: float, lr: float, warmup: float) -> Any:
    """A ``TrainerCallback`` that ends training after ``minutes``, the learning rate following the clock.

    A shared CPU runs at an unknown speed, so the schedule is a fraction of the time budget, not
    of the step count: linear warm-up over the first ``warmup`` of it, then linear decay to 0 at
    ``minutes``, when training stops (and the Trainer saves, scores dev and keeps the best
    checkpoint as it would at the last step). Progress is whichever is further along, the clock
    or the steps: on a machine fast enough to finish the epochs inside the budget the rate decays
    by the steps, as without a budget, instead of stopping at the last step part-way down.
    A run resumed with ``--resume`` gets a fresh budget.
    Use it with ``lr_scheduler_type="constant"`` so no step-based schedule fights it.
    """
    from transformers import TrainerCallback

    class TimeLimit(TrainerCallback):
        def __init__(self) -> None:
            self.started = time.time()

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.time()  # model loading and data preparation are not training
            return control

        def on_step_begin(self, args, state, control, optimizer=None, lr_scheduler=None, **kwargs):
            done = (time.time() - self.started) / (60 * minutes)
            if getattr(state, "max_steps", 0) > 0:
                done = max(done, state.global_step / state.max_steps)
            factor = done / warmup if done < warmup else max(0.0, 1 - done) / (1 - warmup)
            value = lr * max(factor, 0.01)
            for group in optimizer.param_groups if optimizer is not None else []:
                group["lr"] = value
            if hasattr(lr_scheduler, "base_lrs"):  # the constant schedule then keeps (and logs) it
                lr_scheduler.base_lrs = [value] * len(lr_scheduler.base_lrs)
            return control

        def on_step_end(self, args, state, control, **kwargs):
            if time.time() - self.started > 60 * minutes:
                logger.warning("time limit of %.0f min reached at step %d", minutes, state.global_step)
                control.should_training_stop = True
                control.should_save = True
                control.should_evaluate = args.eval_strategy != "no"
            return control

    return TimeLimit()
