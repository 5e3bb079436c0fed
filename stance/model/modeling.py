"""Sentence encoders with a classification head on mean-pooled tokens.

all-MiniLM-L6-v2 and all-mpnet-base-v2 were trained as sentence encoders with mean pooling, so
their [CLS] vector and pooler carry little; a head on the mean of the token vectors starts from
the representation the encoder actually learned and trains much faster than the stock
``*ForSequenceClassification`` heads (with MiniLM's CLS head, loss stayed at ln 3 for 250 steps).

``labels`` may be class ids (cross-entropy) or rows of probabilities (soft cross-entropy against a
teacher's distribution, for distillation).
"""

from __future__ import annotations

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

    def _classify(self, hidden, attention_mask, labels) -> SequenceClassifierOutput:
        logits = self.classifier(self.dropout(mean_pool(hidden, attention_mask)))
        loss = stance_loss(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


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

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return self._classify(hidden, attention_mask, labels)


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

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        hidden = self.mpnet(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self._classify(hidden, attention_mask, labels)


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
