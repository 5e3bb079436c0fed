"""Sentence encoders with a classification head on mean-pooled tokens.

all-MiniLM-L6-v2 and all-mpnet-base-v2 were trained as sentence encoders with mean pooling, so
their [CLS] vector and pooler carry little; a head on the mean of the token vectors starts from
the representation the encoder actually learned and trains much faster than the stock
``*ForSequenceClassification`` heads (with MiniLM's CLS head, loss stayed at ln 3 for 250 steps).

``labels`` may be class ids (cross-entropy) or rows of probabilities (soft cross-entropy against a
teacher's distribution, for distillation). For embedding distillation a training run attaches an
``embedding_head`` (:func:`attach_embedding_head`) that maps the mean-pooled vector to the
teacher's width; ``teacher_embeddings`` then adds a cosine term, and the head is removed
(:func:`detach_embedding_head`) before the model is saved, so a saved model never has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertConfig, BertModel, BertPreTrainedModel, MPNetConfig, MPNetModel
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.models.mpnet.modeling_mpnet import MPNetPreTrainedModel


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of the token vectors that the attention mask keeps."""
    if attention_mask is None:
        return hidden.mean(dim=1)
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


@dataclass
class StanceOutput(SequenceClassifierOutput):
    """Logits (and loss), plus the mean-pooled vector when the forward call asks for it."""

    pooled: torch.FloatTensor | None = None


def embedding_loss(projected: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cosine(student's projected vector, teacher's vector): 0 aligned, 2 opposite."""
    return (1 - nn.functional.cosine_similarity(projected.float(), target.float(), dim=-1)).mean()


def stance_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against class ids, or against probability rows (a teacher's soft labels)."""
    if labels.dtype.is_floating_point and labels.dim() == 2:
        return -(labels * torch.log_softmax(logits.float(), dim=-1)).sum(-1).mean()
    return nn.functional.cross_entropy(logits.float(), labels)


class _MeanPoolHead:
    """Shared forward: encoder, masked mean pooling, dropout, linear head, HF-style outputs."""

    # set by each subclass's __init__
    dropout: nn.Dropout
    classifier: nn.Linear
    # while a student trains with embedding distillation, attach_embedding_head registers an
    # ``embedding_head`` submodule (read through _modules: a class attribute would shadow it)
    embedding_weight: float = 0.0

    def _classify(
        self, hidden, attention_mask, labels, teacher_embeddings=None, return_pooled=False
    ) -> StanceOutput:
        pooled = mean_pool(hidden, attention_mask)
        logits = self.classifier(self.dropout(pooled))
        loss = stance_loss(logits, labels) if labels is not None else None
        if teacher_embeddings is not None:
            head = self._modules.get("embedding_head")  # type: ignore[attr-defined]
            if head is None:
                raise ValueError("teacher_embeddings given but no embedding head attached")
            term = self.embedding_weight * embedding_loss(head(pooled), teacher_embeddings)
            loss = term if loss is None else loss + term
        return StanceOutput(loss=loss, logits=logits, pooled=pooled if return_pooled else None)


class BertMeanPoolForSequenceClassification(_MeanPoolHead, BertPreTrainedModel):
    """BERT (MiniLM) encoder with a mean-pooled linear head."""

    config_class = BertConfig

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.classifier_dropout or config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        labels=None,
        teacher_embeddings=None,
        return_pooled=False,
        **kwargs,
    ):
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return self._classify(hidden, attention_mask, labels, teacher_embeddings, return_pooled)


class MPNetMeanPoolForSequenceClassification(_MeanPoolHead, MPNetPreTrainedModel):
    """MPNet encoder with a mean-pooled linear head."""

    config_class = MPNetConfig

    def __init__(self, config: MPNetConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.mpnet = MPNetModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        labels=None,
        teacher_embeddings=None,
        return_pooled=False,
        **kwargs,
    ):
        hidden = self.mpnet(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self._classify(hidden, attention_mask, labels, teacher_embeddings, return_pooled)


# model_type (config.json) -> class; the class name is what config.json's architectures records.
MEAN_POOL_CLASSES: dict[
    str, type[BertMeanPoolForSequenceClassification] | type[MPNetMeanPoolForSequenceClassification]
] = {
    "bert": BertMeanPoolForSequenceClassification,
    "mpnet": MPNetMeanPoolForSequenceClassification,
}
ARCHITECTURES = {cls.__name__: cls for cls in MEAN_POOL_CLASSES.values()}
ARCHITECTURE = BertMeanPoolForSequenceClassification.__name__


def mean_pool_class(model_type: str):
    """The mean-pooled classifier class for an encoder's ``model_type``."""
    try:
        return MEAN_POOL_CLASSES[model_type]
    except KeyError:
        raise ValueError(
            f"encoder type {model_type!r} is not supported; supported: {', '.join(MEAN_POOL_CLASSES)}"
        ) from None


def attach_embedding_head(model: nn.Module, width: int, weight: float) -> None:
    """Give a mean-pooled student a linear map to the teacher's width, trained with it at ``weight``."""
    if not isinstance(model, (BertMeanPoolForSequenceClassification, MPNetMeanPoolForSequenceClassification)):
        raise ValueError(f"embedding distillation needs a mean-pooled model, not {type(model).__name__}")
    model.add_module("embedding_head", nn.Linear(model.classifier.in_features, width))
    model.embedding_weight = weight


def detach_embedding_head(model: nn.Module) -> None:
    """Remove the training-only head (its weights never reach a saved model folder)."""
    if "embedding_head" in model._modules:
        del model._modules["embedding_head"]
