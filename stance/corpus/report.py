"""summary.html: a self-contained report (inline CSS, images as data URIs, no script, no network).

It holds a speaker x topic heat map of mean stance (favor minus against), a stance timeline per
topic for the top speakers when articles have dates, and the most confident quotes per cell, each
linked to its article. The plots are also written as PNG files beside it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from stance.atomic import atomic_file  # noqa: E402

# Rows in the heat map: enough for a month of political coverage, few enough to read at a glance.
TOP_SPEAKERS = 25
# Lines per timeline: more than five colours on one axis cannot be told apart.
TIMELINE_SPEAKERS = 5
QUOTES_PER_CELL = 3
CMAP = colormaps["RdBu"]  # red = against (-1), blue = favor (+1)
# topics and speaker names are the user's text: "$" in them is a dollar sign, not TeX (matplotlib
# would parse "tax $\x$ plan" as math and fail on the unknown symbol)
_PLAIN_TEXT = {"text.parse_math": False}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "topic"


def _save_png(fig, path: Path) -> bytes:
    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.read_bytes()


def _img(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def heatmap_matrix(speakers: pd.DataFrame, topics: Sequence[str], top: int = TOP_SPEAKERS) -> pd.DataFrame:
    """Mean stance per (speaker, topic) for the speakers with the most quotes; NaN where none."""
    totals = speakers.groupby("speaker")["quotes"].sum().sort_values(ascending=False, kind="stable")
    chosen = list(totals.index[:top])
    matrix = speakers.pivot_table(index="speaker", columns="topic", values="stance", aggfunc="first")
    return matrix.reindex(index=chosen, columns=list(topics))


def plot_heatmap(matrix: pd.DataFrame, path: Path) -> bytes:
    """The heat map as PNG; returns its bytes."""
    with plt.rc_context(_PLAIN_TEXT):
        fig, ax = plt.subplots(
            figsize=(2.2 + 1.6 * max(1, matrix.shape[1]), 1.2 + 0.32 * max(1, matrix.shape[0]))
        )
        image = ax.imshow(matrix.to_numpy(dtype=float), cmap=CMAP, vmin=-1, vmax=1, aspect="auto")
        ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=20, ha="right")
        ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
        fig.colorbar(image, ax=ax, label="mean stance (favor - against)")
        ax.set_title("Stance by speaker and topic")
        return _save_png(fig, path)


def plot_timeline(quotes: pd.DataFrame, topic: str, path: Path) -> bytes | None:
    """Monthly mean stance of the top speakers on one topic; None when no quote has a date."""
    rows = quotes[(quotes["topic"] == topic) & quotes["speaker"].notna()].copy()
    rows["when"] = pd.to_datetime(rows["date"], errors="coerce", utc=True)
    rows = rows.dropna(subset=["when"])
    if rows.empty:
        return None
    top = rows["speaker"].value_counts().index[:TIMELINE_SPEAKERS]
    rows["stance"] = rows["favor"] - rows["against"]
    rows["month"] = rows["when"].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    with plt.rc_context(_PLAIN_TEXT):
        fig, ax = plt.subplots(figsize=(8, 3.6))
        for speaker in top:
            series = rows[rows["speaker"] == speaker].groupby("month")["stance"].mean()
            ax.plot(series.index, series.to_numpy(), marker="o", label=speaker)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("mean stance")
        ax.set_title(f"Stance over time: {topic}")
        ax.legend(fontsize=8, loc="best")
        fig.autofmt_xdate()
        return _save_png(fig, path)


def _cell_html(value: float) -> str:
    if pd.isna(value):
        return '<td class="na">-</td>'
    color = to_hex(CMAP((value + 1) / 2))
    ink = "#fff" if abs(value) > 0.55 else "#000"
    return f'<td style="background:{color};color:{ink}" data-stance="{value:.3f}">{value:+.2f}</td>'


def _anchor(article_id) -> str:
    # the digest keeps two ids that slug alike ("a b", "a-b") apart
    digest = hashlib.sha1(str(article_id).encode("utf-8")).hexdigest()[:8]
    return f"article-{_slug(str(article_id))}-{digest}"


def _article_link(row) -> str:
    anchor = f"#{_anchor(row.article_id)}"
    target = row.url if isinstance(row.url, str) and row.url.startswith(("http://", "https://")) else anchor
    return f'<a href="{html.escape(target)}">{html.escape(str(row.article_id))}</a>'


def render_html(
    quotes: pd.DataFrame, speakers: pd.DataFrame, topics: Sequence[str], images: dict[str, bytes]
) -> str:
    """The report's HTML text."""
    matrix = heatmap_matrix(speakers, topics)
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>quote-stance corpus summary</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "td.na{color:#999;text-align:center}blockquote{margin:.3em 0 .3em 1em;color:#333}"
        "img{max-width:100%}",
        "</style></head><body>",
        "<h1>Corpus summary</h1>",
        f"<p>{quotes['article_id'].nunique()} articles with quotes, "
        f"{len(quotes.drop_duplicates(['article_id', 'start']))} quotes, "
        f"{quotes['speaker'].nunique()} named speakers; topics: {esc(', '.join(topics))}.</p>",
        "<h2 id='heatmap'>Stance by speaker and topic</h2>",
        "<p>Mean stance = mean P(favor) - mean P(against) over the speaker's quotes: "
        "+1 all favor (blue), -1 all against (red).</p>",
        "<table class='heatmap'><tr><th>speaker</th>"
        + "".join(f"<th>{esc(t)}</th>" for t in matrix.columns)
        + "</tr>",
    ]
    for speaker, values in matrix.iterrows():
        parts.append(f"<tr><th>{esc(str(speaker))}</th>" + "".join(_cell_html(v) for v in values) + "</tr>")
    parts.append("</table>")
    if "heatmap" in images:
        parts.append(_img(images["heatmap"], "heat map of mean stance by speaker and topic"))
    timelines = [(t, images[f"timeline:{t}"]) for t in topics if f"timeline:{t}" in images]
    if timelines:
        parts.append("<h2>Stance over time</h2>")
        parts.extend(_img(data, f"timeline for {topic}") for topic, data in timelines)
    parts.append("<h2>Most confident quotes</h2>")
    cited: dict[str, Any] = {}  # article id -> its first cited row (a pandas namedtuple)
    for speaker in matrix.index:
        for topic in matrix.columns:
            cell = quotes[(quotes["speaker"] == speaker) & (quotes["topic"] == topic)]
            if cell.empty:
                continue
            parts.append(f"<h3>{esc(str(speaker))} on {esc(str(topic))}</h3>")
            for row in (
                cell.sort_values("score", ascending=False, kind="stable").head(QUOTES_PER_CELL).itertuples()
            ):
                cited.setdefault(row.article_id, row)
                parts.append(
                    f"<blockquote>“{esc(row.quote)}” <small>({esc(row.label)} {row.score:.2f}, "
                    f"article {_article_link(row)})</small></blockquote>"
                )
    if cited:
        parts.append("<h2>Articles cited</h2><ul>")
        for article_id, row in cited.items():
            meta = " · ".join(esc(str(v)) for v in (row.title, row.source, row.date) if isinstance(v, str))
            parts.append(f"<li id='{_anchor(article_id)}'>{esc(str(article_id))} {meta}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(output: Path, quotes: pd.DataFrame, speakers: pd.DataFrame, topics: Sequence[str]) -> Path:
    """Write heatmap.png, timeline-<topic>.png and summary.html into ``output``; returns the HTML path."""
    images: dict[str, bytes] = {}
    matrix = heatmap_matrix(speakers, topics)
    if not matrix.empty:
        images["heatmap"] = plot_heatmap(matrix, output / "heatmap.png")
    for topic in topics:
        data = plot_timeline(quotes, topic, output / f"timeline-{_slug(topic)}.png")
        if data is not None:
            images[f"timeline:{topic}"] = data
    path = output / "summary.html"
    with atomic_file(path) as handle:
        handle.write(render_html(quotes, speakers, topics, images))
    return path
