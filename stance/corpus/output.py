"""Turn the written parts into the corpus outputs: quotes with merged speakers, speakers.csv, report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stance.analysis import majority_label
from stance.atomic import atomic_file
from stance.corpus.merge import merge_speakers
from stance.corpus.parts import part_files
from stance.corpus.stages import PART_SCHEMA
from stance.labels import LABELS, UNCERTAIN
from stance.spreadsheet import formula_safe_frame

QUOTE_COLUMNS = [
    "article_id", "date", "source", "url", "title", "speaker", "article_speaker", "mention", "kind",
    "cue", "quote", "start", "end", "paragraph", "topic", "label", "score", *LABELS,
]  # fmt: skip
# run.json lists skipped rows up to this many; the count is always complete.
MAX_LISTED_BAD_ROWS = 1000


def read_parts(output: Path) -> pd.DataFrame:
    """All committed parts as one frame in input order (input, row, quote, topic)."""
    files = part_files(output)
    if not files:
        return PART_SCHEMA.empty_table().to_pandas()
    frame = pa.concat_tables([pq.read_table(f, schema=PART_SCHEMA) for f in files]).to_pandas()
    frame = frame.sort_values(
        ["input", "row", "quote_index", "topic_index"], na_position="first", kind="stable"
    )
    # One article per id: where two inputs rows share an id (the Ray backend cannot see that across
    # its tasks), the first in input order wins, so the two articles' quotes never mix.
    key = frame["input"].astype("int64") * 2**40 + frame["row"].astype("int64")
    first = key.where(frame["status"] != "bad").groupby(frame["article_id"]).transform("min")
    frame = frame[(frame["status"] == "bad") | (key == first)]
    # a row written twice (a part written twice) counts once
    frame = frame.drop_duplicates(["article_id", "status", "quote_index", "topic"])
    return frame.reset_index(drop=True)


def quotes_frame(parts: pd.DataFrame) -> pd.DataFrame:
    """The quote x topic rows with corpus-wide speakers (see :mod:`stance.corpus.merge`)."""
    quotes = parts[parts["status"] == "quote"].copy()
    per_quote = quotes.drop_duplicates(["article_id", "quote_index"])["article_speaker"].dropna()
    mapping = merge_speakers(Counter(per_quote))
    quotes["speaker"] = quotes["article_speaker"].map(mapping)
    # the parts hold rows without quotes too, which made these columns nullable floats
    quotes = quotes.astype({"start": "int64", "end": "int64", "paragraph": "int64"})
    return quotes[QUOTE_COLUMNS].reset_index(drop=True)


def speakers_frame(quotes: pd.DataFrame) -> pd.DataFrame:
    """Speaker x topic: quotes, articles, mean scores, mean stance (favor - against), majority label,
    first and last date. Quotes without a named speaker are left out."""
    named = quotes.dropna(subset=["speaker"]).copy()
    named["parsed_date"] = pd.to_datetime(named["date"], errors="coerce", utc=True)
    rows = []
    for (speaker, topic), group in named.groupby(["speaker", "topic"], sort=True):
        means = {label: float(group[label].mean()) for label in LABELS}
        counts = group["label"].value_counts().to_dict()
        dates = group["parsed_date"].dropna()
        rows.append(
            {
                "speaker": speaker,
                "topic": topic,
                "quotes": len(group),
                "articles": group["article_id"].nunique(),
                **means,
                "stance": means["favor"] - means["against"],
                "label": majority_label(counts, means),
                "first_date": dates.min().date().isoformat() if len(dates) else None,
                "last_date": dates.max().date().isoformat() if len(dates) else None,
            }
        )
    columns = [
        "speaker",
        "topic",
        "quotes",
        "articles",
        *LABELS,
        "stance",
        "label",
        "first_date",
        "last_date",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["quotes", "speaker", "topic"], ascending=[False, True, True], kind="stable")


def write_quotes(quotes: pd.DataFrame, output: Path, formats: Sequence[str]) -> list[Path]:
    """quotes.parquet always, quotes.jsonl / quotes.csv on request, each written atomically."""
    written = []
    for fmt in dict.fromkeys(["parquet", *formats]):
        path = output / f"quotes.{fmt}"
        with atomic_file(path, "wb" if fmt == "parquet" else "w") as handle:
            if fmt == "parquet":
                pq.write_table(pa.Table.from_pandas(quotes, preserve_index=False), handle)
            elif fmt == "jsonl":
                quotes.to_json(handle, orient="records", lines=True, force_ascii=False)
            else:
                formula_safe_frame(quotes).to_csv(handle, index=False)
        written.append(path)
    return written


def finalize(
    output: Path, topics: Sequence[str], formats: Sequence[str], min_confidence: float | None = None
) -> dict:
    """Write quotes, speakers.csv and the report from every committed part; return corpus counts.

    Stances under ``min_confidence`` are written ``uncertain`` and not counted in the speakers'
    majority labels; the parts keep the model's labels, so a resumed run may use another threshold.
    """
    from stance.corpus.report import write_report

    parts = read_parts(output)
    quotes = quotes_frame(parts)
    if min_confidence is not None:
        quotes.loc[quotes["score"] < min_confidence, "label"] = UNCERTAIN
    speakers = speakers_frame(quotes)
    write_quotes(quotes, output, formats)
    with atomic_file(output / "speakers.csv") as handle:
        formula_safe_frame(speakers).to_csv(handle, index=False)
    write_report(output, quotes, speakers, topics)
    bad = parts[parts["status"] == "bad"]
    return {
        "corpus": {
            "articles": int(parts.loc[parts["status"] != "bad", "article_id"].nunique()),
            "articles_with_quotes": int(quotes["article_id"].nunique()),
            "quotes": int(len(quotes.drop_duplicates(["article_id", "start", "end"]))),
            "pairs": int(len(quotes)),
            "speakers": int(quotes["speaker"].nunique()),
            "bad_rows": int(len(bad)),
        },
        "bad_rows": bad["error"].head(MAX_LISTED_BAD_ROWS).tolist(),
    }
