"""Hostile corpus inputs: every bad line is skipped and counted, nothing is read whole past its
limit, the output folder is checked, and the CSVs a spreadsheet opens run no formulas."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from stance.corpus.folder import claim_output
from stance.corpus.io import Article, BadRow, InputFile, parse_stream
from stance.corpus.output import QUOTE_COLUMNS, write_quotes
from stance.errors import CorpusError
from stance.spreadsheet import formula_safe, formula_safe_frame

GOOD = {"id": "ok", "text": "“We will sign,” Lavrov said."}


class CountingBytes(io.BytesIO):
    """A file that remembers the most bytes any one read returned."""

    largest = 0

    def readline(self, size=-1):  # type: ignore[override]
        line = super().readline(size)
        self.largest = max(self.largest, len(line))
        return line

    def read(self, size=-1):  # type: ignore[override]
        data = super().read(size)
        self.largest = max(self.largest, len(data))
        return data


def _rows(data: bytes, kind: str, max_bytes: int = 10_000):
    handle = CountingBytes(data)
    items = list(parse_stream(handle, InputFile(Path(f"in.{kind}"), 0, 1, kind), max_bytes=max_bytes))  # type: ignore[arg-type]
    return items, handle.largest


def test_hostile_json_lines_are_skipped_and_counted_and_the_rest_is_read():
    lines = [
        b"[" * 100_000,
        b'{"id": "n", "text": "x", "n": 1' + b"0" * 5000 + b"}",
        b'{"id": "deep", "text": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"id": "u", "text": "caf\xe9"}',
        b"[1, 2]",
        json.dumps(GOOD).encode(),
    ]
    items, _ = _rows(b"\n".join(lines) + b"\n", "jsonl", max_bytes=1_000_000)
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [b.row for b in bad] == [1, 2, 3, 4, 5]
    assert "nested too deep" in bad[0].reason and "digits" in bad[1].reason
    assert [i.id for i in items if isinstance(i, Article)] == ["ok"]


def test_a_json_line_with_an_escaped_lone_surrogate_is_a_bad_row_and_the_rest_is_read():
    lines = [
        rb'{"id": "\ud800", "text": "x"}',
        rb'{"id": "m", "text": "x", "title": "\udc00"}',
        rb'{"id": "t", "text": "caf\ud800"}',
        json.dumps(GOOD).encode(),
    ]
    items, _ = _rows(b"\n".join(lines) + b"\n", "jsonl")
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [(b.row, b.id) for b in bad] == [(1, "in.jsonl:1"), (2, "m"), (3, "t")]
    assert [b.reason.split("'")[1] for b in bad] == ["id", "title", "text"]
    assert [i.id for i in items if isinstance(i, Article)] == ["ok"]


def test_a_line_past_the_limit_is_refused_without_being_read_whole():
    data = b'{"text": "' + b"a" * 3_000_000 + b'"}\n' + json.dumps(GOOD).encode() + b"\n"
    items, largest = _rows(data, "jsonl", max_bytes=10_000)
    assert isinstance(items[0], BadRow) and "line of 3.0 MB" in items[0].reason
    assert isinstance(items[1], Article) and items[1].row == 2
    assert largest <= 1 << 20  # never more than one 1 MB block of the 3 MB line at a time


def test_a_txt_file_past_the_limit_is_refused_without_being_read_whole():
    items, largest = _rows(b"a" * 50_000, "txt", max_bytes=10_000)
    assert isinstance(items[0], BadRow) and "over the" in items[0].reason
    assert largest == 10_001


def test_a_csv_row_with_a_line_or_field_past_the_limit_is_skipped_and_the_rest_is_read():
    long_line = b'x,"' + b"a" * 50_000 + b'"\n'
    long_field = b'y,"' + b"b\n" * 8_000 + b'"\n'
    data = b"id,text\n" + long_line + b"ok,fine text\n" + long_field + b"z,never read\n"
    before = csv.field_size_limit()
    items, largest = _rows(data, "csv", max_bytes=10_000)
    assert [type(i).__name__ for i in items] == ["BadRow", "Article", "BadRow"]
    assert items[1].text == "fine text" and "rest of the file is skipped" in items[2].reason
    assert csv.field_size_limit() == before  # the process-wide limit is put back
    assert largest <= 1 << 20


def test_output_naming_a_file_and_resume_with_other_topics_or_kinds_are_refused(tmp_path):
    afile = tmp_path / "out.txt"
    afile.write_text("x")
    for output in (afile, afile / "sub"):
        with pytest.raises(CorpusError, match="is a file"):
            claim_output(output, ["a"], None, resume=False)
    out = tmp_path / "run"
    claim_output(out, ["a", "b"], None, resume=False)
    (out / "parts").mkdir()
    (out / "parts" / "part-00000.parquet").write_bytes(b"")
    with pytest.raises(CorpusError, match="topics"):
        claim_output(out, ["a"], None, resume=True)
    with pytest.raises(CorpusError, match="kinds"):
        claim_output(out, ["a", "b"], ["direct"], resume=True)
    claim_output(out, ["a", "b"], None, resume=True)  # the same question continues


def test_corpus_command_on_a_file_as_output_is_one_line_and_exit_2(tmp_path):
    from stance_cli.app import app

    inputs = tmp_path / "in.jsonl"
    inputs.write_text(json.dumps(GOOD) + "\n")
    afile = tmp_path / "out"
    afile.write_text("x")
    result = CliRunner().invoke(app, ["corpus", str(inputs), "--topic", "t", "--output", str(afile)])
    assert result.exit_code == 2, result.output
    assert "is a file" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("limit", ["inf", "1e9"])
def test_corpus_command_refuses_an_article_limit_past_1000_mb_in_one_line(tmp_path, limit):
    from stance_cli.app import app

    inputs = tmp_path / "in.jsonl"
    inputs.write_text(json.dumps(GOOD) + "\n")
    args = ["corpus", str(inputs), "-t", "t", "-o", str(tmp_path / "out"), "--max-article-mb", limit]
    result = CliRunner().invoke(app, [*args, "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "--max-article-mb" in result.output and not (tmp_path / "out").exists()


HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "  =1", "\u3000＝1", "＠x"]


def test_formula_cells_are_escaped_and_others_untouched():
    assert [formula_safe(v)[0] for v in HOSTILE] == ["'"] * len(HOSTILE)
    assert [formula_safe(v) for v in ("Lavrov", "x=1", " ok", 3, None)] == ["Lavrov", "x=1", " ok", 3, None]
    frame = formula_safe_frame(pd.DataFrame({"speaker": ["=cmd", None], "score": [-0.5, 0.5]}))
    assert frame["speaker"].tolist()[0] == "'=cmd" and frame["score"].tolist() == [-0.5, 0.5]


def test_quotes_csv_escapes_formulas_in_every_text_column(tmp_path):
    row = {c: "x" for c in QUOTE_COLUMNS}
    row.update(start=0, end=1, paragraph=0, score=0.5, favor=0.5, against=0.25, none=0.25)
    for column in ("article_id", "title", "source", "topic", "speaker", "quote"):
        row[column] = "=1+1"
    write_quotes(pd.DataFrame([row], columns=QUOTE_COLUMNS), tmp_path, ["csv"])
    with open(tmp_path / "quotes.csv", newline="") as handle:
        (written,) = list(csv.DictReader(handle))
    assert {written[c] for c in ("article_id", "title", "source", "topic", "speaker", "quote")} == {"'=1+1"}
    assert pd.read_parquet(tmp_path / "quotes.parquet")["title"][0] == "=1+1"  # data files keep the value


ARTICLE = (
    "Foreign Minister Sergei Lavrov met Iran's envoy in Moscow.\n\n"
    "“We will revive the accord,” Lavrov said.\n\n"
    "Kazem Jalali, the ambassador, agreed. “Cooperation is growing,” Jalali told reporters.\n\n"
)


def test_stance_quotes_streams_a_large_file_with_offsets_from_its_start(tmp_path, monkeypatch):
    from stance.quotes import extract_quotes
    from stance_cli.app import app
    from stance_cli.commands import quotes as command

    text = ARTICLE * 40
    path = tmp_path / "big.txt"
    path.write_text(text)
    monkeypatch.setattr(command, "STREAM_CHARS", 1000)  # blocks of about 1,000 characters
    streamed = list(command.quotes_of(str(path), None))
    whole = extract_quotes(text)
    assert len(streamed) == len(whole) == 80
    # a block does not know the full names introduced in the one before (the documented limit)
    assert [(q.start, q.end, q.text, q.speaker_mention, q.paragraph) for q in streamed] == [
        (q.start, q.end, q.text, q.speaker_mention, q.paragraph) for q in whole
    ]
    assert all(text[q.speaker_start : q.speaker_end] == q.speaker_mention for q in streamed)
    assert len({q.group for q in streamed}) == len({q.group for q in whole})
    result = CliRunner().invoke(app, ["quotes", str(path), "--format", "json"])
    assert json.loads(result.output) == {"quotes": [q.to_dict() for q in streamed]}
    result = CliRunner().invoke(app, ["quotes", str(path), "--format", "jsonl"])
    assert json.loads(result.output)["quotes"] == [q.to_dict() for q in streamed]


def test_the_page_download_escapes_formulas_by_the_same_rule():
    import re
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    source = (Path(__file__).parents[1] / "serving/static/page.js").read_text(encoding="utf-8")
    function = re.search(r"  function csvCell\(value\) \{.*?\n  \}\n", source, re.S)
    assert function is not None, "csvCell is gone from page.js"
    cells = [*HOSTILE, "Lavrov", "x=1", " ok"]
    script = function.group(0) + f"console.log(JSON.stringify({json.dumps(cells)}.map(csvCell)));"
    out = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)
    # the page also quotes cells holding commas, quote marks or line breaks; compare the values
    parsed = next(csv.reader(io.StringIO(",".join(out))))
    assert parsed == [formula_safe(v) for v in cells]
