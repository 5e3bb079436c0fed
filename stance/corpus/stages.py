"""The two stages both backends run: quotes out of an article, then stance for every quote x topic.

Rows are plain dicts in the part schema (:data:`PART_SCHEMA`). Besides one row per quote x topic,
an article without quotes leaves one ``empty`` row and a bad input row one ``bad`` row, so that a
part says which articles it covered (resumption) and which rows were skipped (``run.json``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from stance.analysis import quote_contexts, quote_pairs
from stance.corpus.io import Article, BadRow
from stance.labels import LABELS
from stance.pairs import StancePair
from stance.quotes import extract_quotes
from stance.quotes.tagger import shared_tagger

PART_SCHEMA = pa.schema(
    [
        ("input", pa.int32()),
        ("row", pa.int64()),
        ("status", pa.string()),  # quote | empty | bad
        ("error", pa.string()),
        ("article_id", pa.string()),
        ("date", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("quote_index", pa.int32()),
        ("article_speaker", pa.string()),
        ("mention", pa.string()),
        ("kind", pa.string()),
        ("cue", pa.string()),
        ("quote", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("paragraph", pa.int32()),
        ("topic_index", pa.int32()),
        ("topic", pa.string()),
        ("label", pa.string()),
        ("score", pa.float64()),
        *[(label, pa.float64()) for label in LABELS],
    ]
)
PART_COLUMNS = PART_SCHEMA.names


def quote_extractor(kinds: Sequence[str] | None = None) -> Callable[[str], list]:
    """``extract_quotes``, with ``kinds`` passed through when the splitter takes that argument.

    Raises:
        ValueError: ``kinds`` given but this version of the splitter cannot filter by kind.
    """
    # the attribution tagger, when on disk (STANCE_TAGGER_PATH, models/attribution), is loaded
    # once per worker process and used beside the rules
    tagger = shared_tagger()
    extra: dict[str, Any] = {"tagger": tagger} if tagger is not None else {}
    if kinds is None:
        return extract_quotes if tagger is None else (lambda text: extract_quotes(text, **extra))
    if "kinds" not in inspect.signature(extract_quotes).parameters:
        raise ValueError("this version of the quote splitter takes no kinds; drop --kind")
    kinds = tuple(kinds)
    return lambda text: extract_quotes(text, kinds=kinds, **extra)


def _base(item: Article | BadRow) -> dict:
    row = dict.fromkeys(PART_COLUMNS)
    row.update(input=item.input, row=item.row, article_id=item.id)
    return row


def bad_row(item: BadRow) -> dict:
    """The marker row a skipped input row leaves in its part."""
    return {**_base(item), "status": "bad", "error": f"{item.where}: {item.reason}"}


def article_rows(article: Article, topics: Sequence[str], extract: Callable[[str], list]) -> list[dict]:
    """Rows to classify for one article: each quote x topic (with its ``context``), or one ``empty`` row.

    Quotes are extracted and the article split into paragraphs once; every topic reuses them.
    Each row carries its pair's ``reading`` and ``context`` until :func:`classify_rows`.
    """
    base = _base(article)
    base.update(date=article.date, source=article.source, url=article.url, title=article.title)
    quotes = [q for q in extract(article.text) if q.text.strip()]
    if not quotes:
        return [{**base, "status": "empty"}]
    rows = []
    contexts = quote_contexts(article.text, quotes)
    for index, (quote, context) in enumerate(zip(quotes, contexts, strict=True)):
        fields = {
            **base,
            "status": "quote",
            "quote_index": index,
            "article_speaker": quote.speaker,
            "mention": quote.speaker_mention,
            "kind": str(quote.kind),
            "cue": quote.cue,
            "quote": quote.text,
            "start": quote.start,
            "end": quote.end,
            "paragraph": quote.paragraph,
        }
        for topic_index, pair in enumerate(quote_pairs(article.text, quote, context, topics)):
            rows.append(
                {
                    **fields,
                    "topic_index": topic_index,
                    "topic": pair.topic,
                    "context": pair.context,
                    "reading": pair.reading,
                }
            )
    return rows


def classify_rows(rows: list[dict], model, batch_size: int = 64) -> list[dict]:
    """Fill label and scores on the quote rows in place (dropping ``context``); returns ``rows``.

    One call to :meth:`StanceClassifier.predict` for all rows, which sorts them by length, so
    batches mix articles and pad little. Identical pairs, such as a wire story printed twice,
    are classified once.
    """
    unique: dict[StancePair, int] = {}
    todo = [r for r in rows if r["status"] == "quote"]
    keys = [StancePair(r.pop("reading"), r["topic"], r.pop("context")) for r in todo]
    for key in keys:
        unique.setdefault(key, len(unique))
    preds = model.predict(list(unique), batch_size=batch_size) if unique else []
    for row, key in zip(todo, keys, strict=True):
        pred = preds[unique[key]]
        row["label"] = pred.label
        row["score"] = pred.score
        for label in LABELS:
            row[label] = pred.scores[label]
    for row in rows:
        row.pop("context", None)
        row.pop("reading", None)
    return rows


def to_table(rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table in the part schema."""
    return pa.Table.from_pylist(rows, schema=PART_SCHEMA)
