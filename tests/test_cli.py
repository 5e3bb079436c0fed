"""The `stance` command line, end to end on tiny models and data (one smoke test per command)."""

import functools
import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.data import fetch as fetch_module
from stance.data.sources import PublicSet, RemoteFile
from stance_cli import app
from tests.conftest import tiny_cli_args

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
ARTICLE = "Kazem Jalali spoke.\n\n“The meeting matters,” Jalali said, “for the region.”\n"


def test_quotes_formats(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text(ARTICLE)
    b = tmp_path / "b.txt"
    b.write_text("“No,” said Lavrov.")
    table = runner.invoke(app, ["quotes", str(a)])
    assert table.exit_code == 0 and "Kazem Jalali" in table.output
    one = json.loads(runner.invoke(app, ["quotes", str(a), "--format", "json"]).output)
    assert [q["group"] for q in one["quotes"]] == [0, 0]
    lines = runner.invoke(app, ["quotes", str(a), str(b), "--format", "jsonl"]).output.splitlines()
    assert [json.loads(line)["file"] for line in lines] == [str(a), str(b)]
    piped = runner.invoke(app, ["quotes", "-", "--format", "json"], input="“Yes,” Raeisi said.")
    assert json.loads(piped.output)["quotes"][0]["speaker"] == "Raeisi"


def test_quotes_errors_are_clear(tmp_path):
    missing = runner.invoke(app, ["quotes", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    two = runner.invoke(app, ["quotes", "-", "-", "--format", "json"], input="x")
    assert two.exit_code == 2 and "use --format jsonl" in two.output


def test_train_evaluate_predict_analyze(tiny_base, data_dir, tmp_path):
    model = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            *tiny_cli_args(tiny_base, {"train.max_steps": 2, "data.eval": "[vast:test]"}),
            "--output",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (model / "eval_results.json").is_file()

    out = tmp_path / "eval"
    result = runner.invoke(app, ["evaluate", str(model), "vast:test", "--output", str(out), "--topic-swap"])
    assert result.exit_code == 0, result.output
    assert "vast:test" in result.output
    saved = json.loads((out / "eval_results.json").read_text())["vast:test"]
    assert {
        "n",
        "accuracy",
        "macro_f1",
        "f_avg",
        "per_label",
        "per_topic",
        "confusion_matrix",
        "topic_swap",
    } <= set(saved)

    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "we support it", "id": 7}\n\n{"text": "no", "topic": "x"}\n')
    preds = tmp_path / "preds.jsonl"
    result = runner.invoke(
        app,
        [
            "predict",
            str(model),
            "--topic",
            "the deal",
            "--input",
            str(rows),
            "--output",
            str(preds),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in preds.read_text().splitlines()]
    assert lines[0]["id"] == 7 and lines[0]["topic"] == "the deal" and lines[1]["topic"] == "x"
    assert set(lines[0]) >= {"label", "score", "scores"}

    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    result = runner.invoke(
        app,
        [
            "analyze",
            str(article),
            "--topic",
            "the JCPOA",
            "--model",
            str(model),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["speakers"][0]["speaker"] == "Kazem Jalali"


def test_train_config_errors_name_the_key(tmp_path):
    result = runner.invoke(app, ["train", str(ROOT / "configs" / "smoke.yaml"), "--train.lr", "banana"])
    assert result.exit_code == 2 and "train.lr: expected float, got 'banana'" in result.output
    result = runner.invoke(app, ["train", str(ROOT / "configs" / "smoke.yaml"), "--nope"])
    assert result.exit_code == 2 and "overrides look like" in result.output


def test_predict_bad_line_names_the_line(tiny_model, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "fine", "topic": "t"}\n{"text": ""}\n')
    result = runner.invoke(app, ["predict", str(tiny_model), "--input", str(rows)])
    assert result.exit_code == 2 and f"{rows}:2: missing or empty 'text'" in result.output


def test_predict_refuses_an_escaped_lone_surrogate_naming_the_line(tiny_model, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "fine", "topic": "t"}\n{"text": "ok", "topic": "t", "id": "\\ud800"}\n')
    out = tmp_path / "preds.jsonl"
    result = runner.invoke(app, ["predict", str(tiny_model), "--input", str(rows), "--output", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert f"{rows}:2: field 'id' holds an unpaired surrogate" in result.output and not out.exists()


def test_evaluate_bad_data_names_file_and_line(tiny_model, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "a", "topic": "t", "label": "favor"}\n{"text": "a", "topic": "t", "label": "perhaps"}\n'
    )
    result = runner.invoke(app, ["evaluate", str(tiny_model), str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:2: unknown stance label" in result.output


def test_serve_refuses_a_broken_model(tiny_model, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "config.json").unlink()
    result = runner.invoke(app, ["serve", "--model", str(broken)])
    assert result.exit_code == 3 and "broken is incomplete: missing config.json" in result.output


def test_serve_passes_precision_and_key_file_to_the_app(tiny_model, tmp_path, monkeypatch):
    """`--precision fp32` used to be dropped on the way to the service; the key comes from a file."""
    import uvicorn

    seen = {}

    def fake_run(app_or_name, **kwargs):
        seen["settings"] = app_or_name.state.service.settings
        seen["kwargs"] = kwargs

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("STANCE_API_KEY", "from-env")
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    args = ["serve", "--model", str(tiny_model), "--precision", "fp32", "--api-key-file", str(key_file)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    settings = seen["settings"]
    assert settings.precision == "fp32" and settings.key() == "from-env"
    # connections are capped by the guarded protocol, which refuses in JSON (serving/launch.py)
    assert seen["kwargs"]["timeout_keep_alive"] == 5 and seen["kwargs"]["limit_concurrency"] is None
    assert seen["kwargs"]["http"].__name__ == "GuardedHttpProtocol"
    import os

    assert "STANCE_API_KEY" not in os.environ
    result = runner.invoke(app, ["serve", "--api-key", "visible-in-ps"])
    assert result.exit_code == 2 and "No such option" in result.output


def test_serve_without_a_model_or_data_still_serves_quotes(tmp_path, monkeypatch):
    import uvicorn

    monkeypatch.setenv("STANCE_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(uvicorn, "run", lambda app_or_name, **kwargs: None)
    result = runner.invoke(app, ["serve", "--model", str(tmp_path / "none"), "--ensure-model"])
    assert result.exit_code == 0, result.output
    assert "quotes only (no stance model at" in result.output


def test_quotes_and_analyze_no_stance_need_no_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no models/default here
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    result = runner.invoke(app, ["analyze", str(article), "--no-stance", "--format", "json"])
    assert result.exit_code == 0, result.output
    quotes = json.loads(result.stdout)["quotes"]
    assert quotes[0]["speaker"] == "Kazem Jalali" and "Jalali said" in quotes[0]["context"]
    result = runner.invoke(app, ["analyze", str(article), "--topic", "the JCPOA"])
    assert result.exit_code == 3 and "--no-stance" in result.output and "stance train" in result.output


def test_analyze_reads_stdin_as_strict_utf8():
    article = "“We will not sign,” Jalali said."
    result = runner.invoke(app, ["analyze", "-", "--no-stance", "--format", "json"], input=article.encode())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["quotes"][0]["speaker"] == "Jalali"
    bad = runner.invoke(app, ["analyze", "-", "--no-stance"], input=article.encode() + b" \xff\n")
    assert bad.exit_code == 2 and "error: -: not UTF-8 text (byte 37)" in bad.output


def test_labels_commands_name_the_path_a_file_system_error_is_about(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "We will sign.", "topic": "the deal", "label": "favor"}\n')
    db = tmp_path / "labels.sqlite3"
    assert runner.invoke(app, ["labels", "import", str(good), "--db", str(db)]).exit_code == 0
    (tmp_path / "out").mkdir()
    cases = [
        (["labels", "export", str(tmp_path / "out"), "--db", str(db)], f"{tmp_path / 'out'}: Is a directory"),
        (["labels", "export", str(good / "x.jsonl"), "--db", str(db)], f"{good}: File exists"),
        (["labels", "import", str(good), "--db", str(good / "x.sqlite3")], f"{good}: File exists"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.exception
        assert f"error: {message}" in result.output


@pytest.fixture()
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_data_fetch_prints_terms_then_fetches_and_tolerates_no_network(http_root, tmp_path, monkeypatch):
    root, url = http_root
    raw = b"God is great\tAtheism\tagainst\n"
    remote = RemoteFile(
        "train.tsv", "owner/repo/0123abcd/train.tsv", hashlib.sha256(raw).hexdigest(), len(raw)
    )
    (root / "owner" / "repo" / "0123abcd").mkdir(parents=True)
    (root / remote.path).write_bytes(raw)

    def rows(files):
        lines = files["train.tsv"].decode().splitlines()
        return {
            "train": [dict(zip(("text", "topic", "label"), line.split("\t"), strict=True)) for line in lines]
        }

    demo = PublicSet("demo", (remote,), rows, "demo terms", "demo citation")
    monkeypatch.setitem(fetch_module.SOURCES, "demo", demo)
    result = runner.invoke(app, ["data", "fetch", "demo", "--dest", str(tmp_path / "d"), "--mirror", url])
    assert result.exit_code == 0, result.output
    assert result.output.index("demo terms") < result.output.index("wrote")
    written = tmp_path / "d" / "stance" / "demo" / "normalized" / "train.jsonl"
    assert json.loads(written.read_text()) == {"text": "God is great", "topic": "Atheism", "label": "against"}
    result = runner.invoke(app, ["data", "mirror", str(tmp_path / "m"), "--from", str(tmp_path / "d")])
    assert result.exit_code == 0 and (tmp_path / "m" / remote.path).read_bytes() == raw
    offline = ["data", "fetch", "--for", str(ROOT / "configs" / "quick.yaml"), "--dest", str(tmp_path / "e")]
    monkeypatch.setenv("STANCE_DATA_MIRROR", "http://127.0.0.1:9")
    result = runner.invoke(app, offline)
    assert result.exit_code == 2 and "could not reach" in result.output
    result = runner.invoke(app, [*offline, "--offline-ok"])
    assert result.exit_code == 0 and "note: could not reach" in result.output


def test_quotes_explain_and_kinds(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text(ARTICLE, encoding="utf-8")
    table = runner.invoke(app, ["quotes", str(a), "--explain", "--kinds", "direct"])
    assert table.exit_code == 0 and "rule" in table.output and "x_said" in table.output
    bad = runner.invoke(app, ["quotes", str(a), "--kinds", "hearsay"])
    assert bad.exit_code != 0 and "unknown quote kind" in bad.output
