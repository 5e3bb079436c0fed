"""stance corpus: readers and bad rows, speaker merging, resumption, outputs, the HTML report, Ray."""

from __future__ import annotations

import csv
import html
import json
import os
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from stance.corpus import CorpusError, core_name, merge_speakers, run_corpus
from stance.corpus.io import BadRow, CorpusInputError, list_inputs, parse_columns, read_articles

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["the deal", "Iran"]

ARTICLES = [
    ("a1", "2021-01-05", "Russian Foreign Minister Sergei Lavrov spoke in Geneva.\n\n"
     "“We will revive the accord,” Lavrov said.\n\n“Talks go on,” he added."),
    ("a2", "2021-02-10", "“The deal is dead,” Lavrov told reporters on Monday."),
    ("a3", "2021-02-11", "Former President Bill Clinton visited Ohio.\n\n"
     "“We support the deal,” Clinton said."),
    ("a4", "2021-03-01", "“We oppose the deal,” Hillary Clinton said on Tuesday."),
    ("a5", "2021-03-02", "“Iran will not sign,” Clinton said."),
    ("a6", "2021-03-15", "No one was quoted in this short report about the weather."),
    ("a7", "2021-04-01", "Ali Jalali, the spokesman, was blunt.\n\n"
     "“We will never sign the accord,” Jalali said."),
    ("a8", "2021-04-20", "“We love the deal,” said Sergei Lavrov.\n\n“It is good for peace,” Lavrov said."),
]  # fmt: skip


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for ident, date, text in rows:
            handle.write(json.dumps({"id": ident, "date": date, "source": "wire", "text": text}) + "\n")
    return path


@pytest.fixture()
def corpus_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "corpus.jsonl", ARTICLES)


# ---------------------------------------------------------------------------------------------
# Speaker merging
# ---------------------------------------------------------------------------------------------


def test_titles_and_possessive_leads_are_not_part_of_the_name():
    assert core_name("Russian Foreign Minister Sergei Lavrov") == "Sergei Lavrov"
    assert core_name("RealClearPolitics’ David Byler") == "David Byler"
    assert core_name("Democrat Hillary Clinton") == "Hillary Clinton"
    assert core_name("Lavrov") == "Lavrov"


def test_one_person_across_articles_merges():
    merged = merge_speakers(["Sergei Lavrov", "Lavrov", "Russian Foreign Minister Sergei Lavrov", "LAVROV"])
    assert set(merged.values()) == {"Sergei Lavrov"}


def test_same_surname_different_full_names_stay_apart():
    merged = merge_speakers(["Bill Clinton", "Hillary Clinton", "Hillary Rodham Clinton", "Clinton"])
    assert merged["Bill Clinton"] == "Bill Clinton"
    assert merged["Hillary Clinton"] == merged["Hillary Rodham Clinton"] == "Hillary Clinton"
    # a bare surname shared by two people cannot be given to either
    assert merged["Clinton"] == "Clinton"


def test_merging_does_not_depend_on_order_and_names_by_majority():
    names = ["Donald J. Trump", "Donald Trump", "Trump", "Donald Trump", "Billionaire Donald Trump"]
    assert merge_speakers(names) == merge_speakers(list(reversed(names)))
    assert set(merge_speakers(names).values()) == {"Donald Trump"}
    assert merge_speakers({"Sergei Lavrov": 1, "Sergey Lavrov": 3}) == {
        "Sergei Lavrov": "Sergei Lavrov",
        "Sergey Lavrov": "Sergey Lavrov",
    }


def test_corpus_outputs_use_merged_speakers(tiny_model, corpus_file, tmp_path):
    out = tmp_path / "out"
    run_corpus(corpus_file, TOPICS, out, tiny_model, progress=False)
    quotes = pd.read_parquet(out / "quotes.parquet")
    lavrov = quotes[quotes["article_id"].isin(["a1", "a2", "a8"])]
    assert set(lavrov["speaker"]) == {"Sergei Lavrov"}
    assert set(lavrov["article_speaker"]) == {"Sergei Lavrov", "Lavrov"}
    by_article = quotes.drop_duplicates("article_id").set_index("article_id")["speaker"]
    assert by_article["a3"] == "Bill Clinton" and by_article["a4"] == "Hillary Clinton"
    assert by_article["a5"] == "Clinton"
    speakers = pd.read_csv(out / "speakers.csv")
    row = speakers[(speakers["speaker"] == "Sergei Lavrov") & (speakers["topic"] == "Iran")].iloc[0]
    assert (row["quotes"], row["articles"]) == (5, 3)
    assert (row["first_date"], row["last_date"]) == ("2021-01-05", "2021-04-20")
    assert abs(row["stance"] - (row["favor"] - row["against"])) < 1e-9


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


def test_one_row_per_quote_and_topic_with_all_fields(tiny_model, corpus_file, tmp_path):
    out = tmp_path / "out"
    record = run_corpus(corpus_file, TOPICS, out, tiny_model, formats=["jsonl", "csv"], progress=False)
    quotes = pd.read_parquet(out / "quotes.parquet")
    n_quotes = len(quotes.drop_duplicates(["article_id", "start"]))
    assert len(quotes) == n_quotes * len(TOPICS) == record["corpus"]["pairs"]
    assert list(quotes.groupby(["article_id", "start"]).size().unique()) == [len(TOPICS)]
    row = quotes[quotes["article_id"] == "a2"].iloc[0]
    article = dict((i, t) for i, _, t in ARTICLES)["a2"]
    assert article[row["start"] : row["end"]] == row["quote"] == "The deal is dead,"
    assert row["date"] == "2021-02-10" and row["source"] == "wire" and row["kind"] == "direct"
    assert abs(row["favor"] + row["against"] + row["none"] - 1) < 1e-5
    assert row["label"] in {"favor", "against", "none"} and row["score"] == max(
        row[["favor", "against", "none"]]
    )
    assert "a6" not in set(quotes["article_id"])  # no quotes, no rows
    assert len(pd.read_json(out / "quotes.jsonl", lines=True)) == len(quotes)
    assert len(pd.read_csv(out / "quotes.csv")) == len(quotes)
    run = json.loads((out / "run.json").read_text())
    assert run["corpus"]["articles"] == len(ARTICLES) and run["corpus"]["bad_rows"] == 0
    assert run["encoder_sha256"] and run["model"] == str(tiny_model)
    assert {"read_extract", "classify", "total"} <= set(run["seconds"])
    assert (out / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "timeline-the-deal.png").is_file() and (out / "timeline-iran.png").is_file()


def test_txt_folder_and_csv_with_column_mapping(tiny_model, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for ident, _, text in ARTICLES[:3]:
        (folder / f"{ident}.txt").write_text(text, encoding="utf-8")
    table = tmp_path / "more.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc", "body", "published"])
        for ident, date, text in ARTICLES[3:5]:
            writer.writerow([ident, text, date])
    out = tmp_path / "out"
    columns = parse_columns(["id=doc", "text=body", "date=published"])
    run_corpus([folder, table], TOPICS, out, tiny_model, columns=columns, progress=False)
    quotes = pd.read_parquet(out / "quotes.parquet")
    assert list(quotes["article_id"].unique()) == ["a1", "a2", "a3", "a4", "a5"]  # input order
    assert quotes.loc[quotes["article_id"] == "a4", "date"].iloc[0] == "2021-03-01"
    assert quotes.loc[quotes["article_id"] == "a1", "date"].isna().all()


def test_bad_options_say_what_is_wrong(tiny_model, corpus_file, tmp_path):
    with pytest.raises(CorpusInputError, match="no such file"):
        run_corpus(tmp_path / "missing.jsonl", TOPICS, tmp_path / "o", tiny_model)
    with pytest.raises(CorpusInputError, match="unknown input type"):
        (tmp_path / "x.xml").write_text("<a/>")
        run_corpus(tmp_path / "x.xml", TOPICS, tmp_path / "o", tiny_model)
    with pytest.raises(CorpusError, match="topic"):
        run_corpus(corpus_file, [" "], tmp_path / "o", tiny_model)
    with pytest.raises(CorpusInputError, match="FIELD=COLUMN"):
        parse_columns(["body"])
    run_corpus(corpus_file, TOPICS, tmp_path / "o", tiny_model, progress=False)
    with pytest.raises(CorpusError, match="--resume"):
        run_corpus(corpus_file, TOPICS, tmp_path / "o", tiny_model, progress=False)


# ---------------------------------------------------------------------------------------------
# Bad rows
# ---------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_number_skipped_and_counted(tiny_model, tmp_path, caplog):
    path = tmp_path / "mixed.jsonl"
    big = "x" * 20_000_000
    lines = [
        json.dumps({"id": "good1", "text": ARTICLES[1][2]}).encode(),
        json.dumps({"id": "empty", "text": ""}).encode(),
        json.dumps({"id": "number", "text": 42}).encode(),
        json.dumps({"id": "huge", "text": big}).encode(),
        b'{"id": "latin1", "text": "caf\xe9 \xff"}',
        b"not json at all",
        json.dumps({"id": "good2", "text": ARTICLES[3][2]}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    record = run_corpus(path, TOPICS, out, tiny_model, progress=False)
    assert record["corpus"]["bad_rows"] == 5 and record["this_run"]["bad_rows"] == 5
    assert record["corpus"]["articles"] == 2
    messages = "\n".join(record["bad_rows"])
    for line_no, reason in [
        (2, "no text"),
        (3, "text is a int"),
        (4, "MB limit"),
        (5, "invalid UTF-8"),
        (6, "JSON"),
    ]:
        assert f"mixed.jsonl:{line_no}: " in messages and reason in messages
    assert "mixed.jsonl:3: text is a int" in caplog.text
    assert set(pd.read_parquet(out / "quotes.parquet")["article_id"]) == {"good1", "good2"}
    assert json.loads((out / "run.json").read_text())["corpus"]["bad_rows"] == 5


def test_bad_csv_row_and_bad_txt_file(tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes(b"id,text\nok,Fine text.\nbad,caf\xe9\nnone,\n")
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("Fine.", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"\xff\xfe broken")
    items = list(read_articles(list_inputs([table, folder])))
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [(b.id, b.reason) for b in bad] == [
        ("bad", "invalid UTF-8 in column 'text'"),
        ("none", "no text (column 'text')"),
        ("b", "invalid UTF-8 at byte 0"),
    ]
    assert "row 2" in bad[0].where and bad[2].where.endswith("b.txt")
    assert [i.id for i in items if not isinstance(i, BadRow)] == ["ok", "a"]


# ---------------------------------------------------------------------------------------------
# Resumption
# ---------------------------------------------------------------------------------------------


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "stance_cli", "corpus", *args], env=env, cwd=ROOT, **kwargs
    )


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["article_id", "start", "topic"]).reset_index(drop=True)


def test_resume_after_a_killed_run_loses_and_duplicates_nothing(tiny_model, tmp_path):
    articles = [(f"{ident}-{k}", date, text) for k in range(3) for ident, date, text in ARTICLES]
    full = write_jsonl(tmp_path / "full.jsonl", articles)
    reference = tmp_path / "reference"
    run_corpus(full, TOPICS, reference, tiny_model, part_size=4, progress=False)
    # The killed run reads a pipe: it writes the first part, then waits for more input and is
    # killed there with SIGKILL, as a crashed machine would stop it.
    fifo = tmp_path / "feed.jsonl"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    proc = _cli(str(fifo), "-t", TOPICS[0], "-t", TOPICS[1], "-o", str(out), "-m", str(tiny_model),
                "--part-size", "4", stderr=subprocess.DEVNULL)  # fmt: skip
    with open(fifo, "w", encoding="utf-8") as feed:
        for ident, date, text in articles[:6]:
            feed.write(json.dumps({"id": ident, "date": date, "source": "wire", "text": text}) + "\n")
        feed.flush()
        deadline = time.monotonic() + 120
        while not list((out / "parts").glob("part-*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()
        proc.wait()
    assert proc.returncode != 0
    assert len(list((out / "parts").glob("part-*.parquet"))) == 1 and not (out / "quotes.parquet").exists()
    record = run_corpus(full, TOPICS, out, tiny_model, part_size=4, resume=True, progress=False)
    assert record["this_run"]["skipped_done"] == 4 and record["this_run"]["articles"] == len(articles) - 4
    resumed = pd.read_parquet(out / "quotes.parquet")
    expected = pd.read_parquet(reference / "quotes.parquet")
    pd.testing.assert_frame_equal(_sorted(resumed), _sorted(expected), check_exact=False, atol=1e-6)
    assert not resumed.duplicated(["article_id", "start", "topic"]).any()
    assert record["corpus"]["articles"] == len(articles)


def test_resume_with_more_input_adds_only_new_articles(tiny_model, tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", ARTICLES[:4])
    second = write_jsonl(tmp_path / "second.jsonl", ARTICLES[4:])
    out = tmp_path / "out"
    run_corpus(first, TOPICS, out, tiny_model, progress=False)
    record = run_corpus([first, second], TOPICS, out, tiny_model, resume=True, progress=False)
    assert record["this_run"]["skipped_done"] == 4 and record["this_run"]["articles"] == len(ARTICLES) - 4
    again = run_corpus([first, second], TOPICS, tmp_path / "fresh", tiny_model, progress=False)
    assert record["corpus"] == again["corpus"]


# ---------------------------------------------------------------------------------------------
# HTML report
# ---------------------------------------------------------------------------------------------


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_is_self_contained_and_holds_the_heat_map(tiny_model, corpus_file, tmp_path):
    out = tmp_path / "out"
    run_corpus(corpus_file, TOPICS, out, tiny_model, progress=False)
    page = (out / "summary.html").read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(page)
    tags = parser.tags
    # nothing that a browser would fetch: no scripts, stylesheets, frames or remote images
    assert not [t for t, _ in tags if t in {"script", "link", "iframe", "object", "embed"}]
    assert "@import" not in page and "url(" not in page
    for tag, attrs in tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:image/png;base64,"), (tag, attrs)
    assert any(t == "img" and "heat map" in a.get("alt", "") for t, a in tags)
    # the heat map table: one row per speaker, one cell per topic, coloured by mean stance
    speakers = pd.read_csv(out / "speakers.csv")
    assert "<table class='heatmap'>" in page
    cells = [a for t, a in tags if t == "td" and "data-stance" in a]
    assert len(cells) == len(speakers)
    lavrov = speakers[(speakers["speaker"] == "Sergei Lavrov") & (speakers["topic"] == "the deal")]
    assert f'data-stance="{lavrov["stance"].iloc[0]:.3f}"' in page
    # most confident quotes link to their article, listed at the end
    links = [a["href"] for t, a in tags if t == "a"]
    anchors = {a["id"] for t, a in tags if "id" in a}
    assert links and all(h.startswith("#") and h[1:] in anchors for h in links)
    # the cell's most confident quote is cited (which one it is depends on the random tiny model)
    quotes = pd.read_parquet(out / "quotes.parquet")
    cell = quotes[(quotes["speaker"] == "Sergei Lavrov") & (quotes["topic"] == "the deal")]
    top = cell.sort_values("score", ascending=False, kind="stable")["quote"].iloc[0]
    assert f"“{html.escape(top)}”" in page


def test_report_with_no_dates_and_no_quotes(tiny_model, tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "Nobody said anything today."}) + "\n")
    out = tmp_path / "out"
    record = run_corpus(path, ["the deal"], out, tiny_model, progress=False)
    assert record["corpus"]["quotes"] == 0
    assert "<table class='heatmap'>" in (out / "summary.html").read_text()
    assert not list(out.glob("timeline-*.png"))


def test_a_topic_with_dollar_signs_is_drawn_as_text_not_tex(tiny_model, corpus_file, tmp_path):
    import matplotlib

    out = tmp_path / "out"
    topic = r"tax $\x$ plan"  # TeX would fail on the unknown symbol \x
    run_corpus(corpus_file, [topic, "Iran"], out, tiny_model, progress=False)
    assert (out / "run.json").is_file() and (out / "heatmap.png").is_file()
    assert html.escape(topic) in (out / "summary.html").read_text(encoding="utf-8")
    assert list(out.glob("timeline-tax-x-plan.png"))
    assert matplotlib.rcParams["text.parse_math"]  # only the report's plots read text plainly


# ---------------------------------------------------------------------------------------------
# CLI and Ray
# ---------------------------------------------------------------------------------------------


def test_cli_smoke(tiny_model, corpus_file, tmp_path):
    from typer.testing import CliRunner

    from stance_cli import app

    out = tmp_path / "out"
    args = ["corpus", str(corpus_file), "-t", "the deal", "-o", str(out), "-m", str(tiny_model), "-f", "csv"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "8 articles" in result.output and (out / "quotes.csv").is_file()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--resume" in result.output


def test_cli_a_model_that_does_not_load_exits_3_bad_options_2(corpus_file, tmp_path):
    from typer.testing import CliRunner

    from stance_cli import app

    args = ["corpus", str(corpus_file), "-t", "the deal", "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "-m", str(tmp_path / "no-model")])
    assert result.exit_code == 3 and "no-model" in result.output
    broken = tmp_path / "broken"  # there, but not a whole model folder
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    result = CliRunner().invoke(app, [*args, "-m", str(broken)])
    assert result.exit_code == 3 and "broken is incomplete" in result.output
    result = CliRunner().invoke(app, [*args, "-f", "xml"])
    assert result.exit_code == 2 and "--format 'xml'" in result.output


def test_ray_backend_matches_local(tiny_model, corpus_file, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'quote-stance[ray]')")
    local = tmp_path / "local"
    ray_out = tmp_path / "ray"
    bad = tmp_path / "with-bad.jsonl"
    bad.write_bytes(corpus_file.read_bytes() + b'{"id": "b", "text": 1}\n')
    run_corpus(bad, TOPICS, local, tiny_model, progress=False)
    record = run_corpus(
        bad, TOPICS, ray_out, tiny_model, backend="ray", ray_options={"num_cpus": 2}, progress=False
    )
    a = pd.read_parquet(local / "quotes.parquet")
    b = pd.read_parquet(ray_out / "quotes.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-5)
    pd.testing.assert_frame_equal(
        pd.read_csv(local / "speakers.csv"),
        pd.read_csv(ray_out / "speakers.csv"),
        check_exact=False,
        atol=1e-5,
    )
    assert record["corpus"] == json.loads((local / "run.json").read_text())["corpus"]
    assert record["backend"] == "ray"


def test_kinds_pass_through_only_when_the_splitter_takes_them(monkeypatch):
    from stance.corpus import stages

    def without_kinds(text):
        return []

    monkeypatch.setattr(stages, "extract_quotes", without_kinds)
    assert stages.quote_extractor(None) is without_kinds
    with pytest.raises(ValueError, match="takes no kinds"):
        stages.quote_extractor(["direct"])
    seen = {}

    def with_kinds(text, kinds=None):
        seen["kinds"] = kinds
        return []

    monkeypatch.setattr(stages, "extract_quotes", with_kinds)
    stages.quote_extractor(["direct", "indirect"])("text")
    assert seen["kinds"] == ("direct", "indirect")


def test_a_repeated_id_is_a_bad_row(tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [ARTICLES[1], ARTICLES[3], ARTICLES[1]])
    record = run_corpus(path, TOPICS, tmp_path / "out", tiny_model, progress=False)
    assert record["bad_rows"] == [f"{path}:3: duplicate id, already read"]
    quotes = pd.read_parquet(tmp_path / "out" / "quotes.parquet")
    assert len(quotes[quotes["article_id"] == "a2"]) == len(TOPICS)


def test_two_articles_under_one_id_never_mix(tmp_path):
    # the Ray backend cannot see a repeated id across its tasks; the final step keeps the first
    from stance.corpus.io import Article
    from stance.corpus.output import quotes_frame, read_parts
    from stance.corpus.parts import write_part
    from stance.corpus.stages import article_rows
    from stance.quotes import extract_quotes

    first = Article(0, 1, "same", ARTICLES[0][2])
    second = Article(1, 1, "same", ARTICLES[7][2])
    for article in (second, first):  # written out of input order
        rows = article_rows(article, ["the deal"], extract_quotes)
        for row in rows:
            row.update(label="none", score=1.0, favor=0.0, against=0.0, none=1.0, context=None)
            row.pop("context")
        write_part(tmp_path, rows)
    quotes = quotes_frame(read_parts(tmp_path))
    assert list(quotes["quote"]) == [q.text for q in extract_quotes(ARTICLES[0][2])]
