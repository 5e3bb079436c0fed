"""Data loading: row checks with file and line, dataset names, dev split disjointness."""

import json
import random

import pytest

from stance.data.examples import DataError, Example, dataset_file, iter_file, load_examples, split_dev
from tests.conftest import ROWS


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "a", "topic": "t"}', r"bad.jsonl:2: missing or empty field 'label'"),
        (
            '{"text": "", "topic": "t", "label": "favor"}',
            r"bad.jsonl:2: missing or empty field 'text'",
        ),
        ('{"text": "a", "topic": "t", "label": "maybe"}', r"bad.jsonl:2: unknown stance label"),
        ("{not json", r"bad.jsonl:2: not valid JSON"),
        ("[1, 2]", r"bad.jsonl:2: expected a JSON object"),
    ],
)
def test_bad_rows_stop_with_file_and_line(tmp_path, line, message):
    good = json.dumps({"text": "a", "topic": "t", "label": "favor"})
    path = write(tmp_path / "bad.jsonl", [good, line])
    with pytest.raises(DataError, match=message):
        list(iter_file(path))


def test_csv_with_column_mapping(tmp_path):
    path = write(tmp_path / "d.csv", ["post,target,stance", "we agree,tax,FAVOR", "no,tax,con"])
    rows = list(iter_file(path, {"text": "post", "topic": "target", "label": "stance"}))
    assert rows == [Example("we agree", "tax", "favor"), Example("no", "tax", "against")]


def test_dataset_names_resolve_under_the_data_dir(data_dir):
    assert dataset_file("vast", "train").is_file()
    assert len(load_examples("vast:test")) == 8
    with pytest.raises(DataError, match="available: test, train"):
        dataset_file("vast", "dev")
    with pytest.raises(DataError, match="unknown dataset"):
        dataset_file("nope", "train")


def test_dev_split_is_disjoint_by_topic_and_text():
    # 100 comments, each under two topics of its own and one topic shared by all
    examples = [Example(f"text {i}", f"topic {i}-{k}", "favor") for i in range(100) for k in (1, 2)]
    examples += [Example(f"text {i}", "shared topic", "none") for i in range(100)]
    train, dev = split_dev(examples, 0.2, random.Random(0))
    assert dev and train
    assert not {e.text for e in train} & {e.text for e in dev}
    assert not {e.topic for e in train} & {e.topic for e in dev}
    assert len(train) == 240  # whole comments held out: 20 of 100, with all their rows


def test_no_training_row_repeats_a_text_of_an_evaluated_set(data_dir, tmp_path):
    # sets are built from each other (ARC's posts hold most of VAST test's comments): a training row
    # whose text an evaluated set holds, under any topic, case or spacing, is dropped from train
    from pathlib import Path

    from stance.config import load_config
    from training.splits import held_out_texts, prepare_sources

    posts = tmp_path / "posts.jsonl"
    rows = [{"text": "We hate  the ACCORD", "topic": "a claim", "label": "none"}]
    rows += [{"text": f"a post {i}", "topic": "a claim", "label": "favor"} for i in range(4)]
    posts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    extra = json.dumps([{"name": str(posts), "weight": 2}])
    config = load_config(smoke, {"data.extra": extra, "data.eval": "[vast:test]"})
    train, dev, stats = prepare_sources(config, held_out_texts(config))
    posted = sorted(e.text for e in train if e.text.startswith(("a post", "We")))
    assert posted == sorted([f"a post {i}" for i in range(4)] * 2)
    assert stats[str(posts)] == {"train": 8, "dev": 0, "held_out": 2}
    # the dev rows are drawn before anything is dropped: rebuilt without the test sets
    # (`stance calibrate`, `stance adapt`), they are the same rows
    all_train, same_dev, all_stats = prepare_sources(config)
    assert same_dev == dev and len(all_train) == len(train) + 2 and "held_out" not in all_stats[str(posts)]


@pytest.mark.parametrize(
    ("copy", "original"),
    [
        ("Global warming isn't  happening.", "Global warming isn’t happening."),
        ("Tom &amp; Jerry said \u201cno\u201d", 'tom & jerry said "no"'),
        ("ＦＵＬＬ width", "full WIDTH"),
        ("x" * 200 + " differs after", "X" * 200 + " and later"),
    ],
)
def test_two_copies_of_a_text_share_a_key(copy, original):
    from training.splits import text_key

    assert text_key(copy) == text_key(original)
    assert text_key("Global warming is happening.") != text_key(original)


def test_held_out_texts_leave_the_dev_split_as_drawn(data_dir, tmp_path):
    # a test file repeating texts of a source that has a dev split: they leave train, and the dev
    # rows are those drawn with nothing held out (dropping first would change every draw after)
    from pathlib import Path

    from stance.config import load_config
    from training.splits import held_out_texts, prepare_sources

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    _, drawn, _ = prepare_sources(load_config(smoke, {"data.eval": "[]"}))
    dev_texts = {e.text for rows in drawn.values() for e in rows}
    tested = sorted(dev_texts)[:2] + [f"{t} {i}" for t, _, _ in ROWS for i in range(3)]
    test_file = tmp_path / "analyst_test.jsonl"
    rows = [{"text": t, "topic": "x", "label": "none"} for t in tested]
    test_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = load_config(smoke, {"data.eval": json.dumps([str(test_file)])})
    train, dev, stats = prepare_sources(config, held_out_texts(config))
    assert dev == drawn and dev_texts & set(tested)
    assert not {e.text for e in train} & set(tested)
    assert stats["vast:train"]["held_out"] > 0 and stats["vast:train"]["dev_held_out"] == 2


def test_no_training_row_repeats_a_dev_text_in_another_form_or_source(data_dir, tmp_path):
    # the dev split is disjoint from its own source's train by exact text; a copy in another form
    # (a curly apostrophe, other spacing) or in another source leaves train, the dev rows as drawn
    from pathlib import Path

    from stance.config import load_config
    from training.splits import prepare_sources

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    _, drawn, _ = prepare_sources(load_config(smoke, {"data.eval": "[]"}))
    dev_text = next(e.text for rows in drawn.values() for e in rows)
    copies = tmp_path / "copies.jsonl"
    rows = [{"text": "  " + dev_text.replace("'", "’").upper(), "topic": "another", "label": "none"}]
    rows += [{"text": f"a new post {i}", "topic": "a claim", "label": "favor"} for i in range(3)]
    copies.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = load_config(smoke, {"data.eval": "[]", "data.extra": json.dumps([str(copies)])})
    train, dev, stats = prepare_sources(config)
    assert {spec: rows for spec, rows in dev.items() if spec in drawn} == drawn
    assert sorted(e.text for e in train if e.topic in {"another", "a claim"}) == [
        f"a new post {i}" for i in range(3)
    ]
    assert stats[str(copies)] == {"train": 3, "dev": 0, "dev_repeat": 1}


def test_a_row_repeating_a_dev_text_that_is_also_a_test_text_is_counted_once(data_dir, tmp_path):
    # dropped as a test text (held_out), not also as a dev repeat: each source's train count is
    # the number of its rows left in train
    from pathlib import Path

    from stance.config import load_config
    from training.splits import held_out_texts, prepare_sources

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    _, drawn, _ = prepare_sources(load_config(smoke, {"data.eval": "[]"}))
    dev_text = sorted(e.text for rows in drawn.values() for e in rows)[0]
    test_file = tmp_path / "analyst_test.jsonl"
    test_file.write_text(json.dumps({"text": dev_text, "topic": "x", "label": "none"}) + "\n")
    copies = tmp_path / "copies.jsonl"
    rows = [{"text": dev_text, "topic": "another", "label": "none"}]
    rows += [{"text": f"a new post {i}", "topic": "a claim", "label": "favor"} for i in range(3)]
    copies.write_text("".join(json.dumps(r) + "\n" for r in rows))
    overrides = {"data.eval": json.dumps([str(test_file)]), "data.extra": json.dumps([str(copies)])}
    config = load_config(smoke, overrides)
    train, _, stats = prepare_sources(config, held_out_texts(config))
    assert stats[str(copies)] == {"train": 3, "dev": 0, "held_out": 1}
    assert sum(e.topic in {"another", "a claim"} for e in train) == 3


def test_an_unreadable_evaluated_set_names_the_entry_and_why_it_is_read(data_dir):
    from pathlib import Path

    from stance.config import load_config
    from training.splits import held_out_texts

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    config = load_config(smoke, {"data.eval": "[semeval2016:test]"})
    with pytest.raises(DataError, match=r"entry 'semeval2016:test' is read .* to keep its texts out"):
        held_out_texts(config)


def test_rows_read_without_labels_need_text_and_topic_only(tmp_path):
    jsonl, csv_file = tmp_path / "posts.jsonl", tmp_path / "posts.csv"
    jsonl.write_text(json.dumps({"text": "a post", "topic": "a claim"}) + "\n")
    csv_file.write_text("text,topic\na post,a claim\n")
    for path in (jsonl, csv_file):
        assert [(e.text, e.topic, e.label) for e in iter_file(path, labelled=False)] == [
            ("a post", "a claim", "none")
        ]
        with pytest.raises(DataError, match="label"):
            list(iter_file(path))


def test_invalid_utf8_names_file_and_line(tmp_path):
    good = json.dumps({"text": "a", "topic": "t", "label": "favor"}).encode()
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_bytes(good + b"\n" + good + b"\n" + b'{"text": "caf\xe9", "topic": "t", "label": "favor"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:3: not valid UTF-8"):
        list(iter_file(jsonl))
    csv_file = tmp_path / "bad.csv"
    csv_file.write_bytes(b"text,topic,label\nok,t,favor\ncaf\xe9,t,favor\n")
    with pytest.raises(DataError, match=r"bad.csv:3: not valid UTF-8"):
        list(iter_file(csv_file))


def test_csv_line_numbers_count_physical_lines(tmp_path):
    lines = ["text,topic,label", '"a text over', 'two lines",tax,favor', '"and over', "three", 'lines",tax,x']
    path = write(tmp_path / "d.csv", lines)
    with pytest.raises(DataError, match=r"d.csv:4: unknown stance label"):
        list(iter_file(path))


def test_a_csv_field_past_the_csv_module_default_is_read_and_the_limit_put_back(tmp_path):
    import csv

    long_text = "we agree " * 20_000  # 180,000 characters, past the csv module's 131,072
    path = write(tmp_path / "d.csv", ["text,topic,label", f'"{long_text}",tax,favor', "no,tax,against"])
    before = csv.field_size_limit()
    rows = list(iter_file(path))
    assert [len(r.text) for r in rows] == [len(long_text.strip()), 2]
    assert csv.field_size_limit() == before  # the process-wide limit is put back


def test_a_lone_carriage_return_in_a_csv_field_names_file_and_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"text,topic,label\nok,tax,favor\nwe\ragree,tax,favor\n")
    with pytest.raises(DataError, match=r"d.csv:3: a carriage return"):
        list(iter_file(path))


def test_a_csv_header_without_a_column_is_reported_once(tmp_path):
    path = write(tmp_path / "d.csv", ["post,target", "we agree,tax", "no,tax"])
    with pytest.raises(DataError) as caught:
        list(iter_file(path, {"text": "post", "topic": "target"}))
    message = str(caught.value)
    assert message.startswith(f"{path}:1: the header has no column 'label'") and "post, target" in message


def test_one_registry_entry_names_a_set_and_its_folder(data_dir, monkeypatch):
    from stance.data.fetch import FetchError, plan
    from stance.data.sources import SOURCES, PublicSet

    folder = data_dir / "stance" / "my_folder" / "normalized"
    folder.mkdir(parents=True)
    write(folder / "train.jsonl", [json.dumps({"text": "we agree", "topic": "t", "label": "favor"})])
    monkeypatch.setitem(SOURCES, "mine", PublicSet("mine", folder="my_folder"))
    assert [e.text for e in load_examples("mine:train")] == ["we agree"]
    with pytest.raises(FetchError, match="unknown data set mine"):
        plan(["mine"])  # no files upstream: read where it lies, never fetched
    with pytest.raises(DataError, match="known: .*mine"):
        dataset_file("yours", "train")


def test_label_probabilities_are_read_and_normalised(tmp_path):
    lines = [
        json.dumps({"text": "a", "topic": "t", "label": "favor", "p_favor": 3, "p_against": 0, "p_none": 1}),
        json.dumps({"text": "b", "topic": "t", "label": "none"}),
    ]
    path = write(tmp_path / "soft.jsonl", lines[:1])
    (row,) = iter_file(path, probs=("p_favor", "p_against", "p_none"))
    assert row.probs == (0.75, 0.0, 0.25) and row.label == "favor"
    assert row.target() == [0.75, 0.0, 0.25] and row.target(("none", "favor", "against")) == [0.25, 0.75, 0.0]
    assert Example("b", "t", "none").target() == [0.0, 0.0, 1.0]
    # without probs the columns are not read
    assert next(iter_file(path)).probs is None
    # a row without them, with a bad one, or with all zero stops with file and line
    write(path, lines)
    with pytest.raises(
        DataError, match=r"soft.jsonl:2: soft_labels needs a probability in column 'p_favor', got None"
    ):
        list(iter_file(path, probs=("p_favor", "p_against", "p_none")))
    for bad, message in ((-1, "got -1"), ("nan", "got 'nan'"), (0, "are all 0")):
        write(
            path,
            [
                json.dumps(
                    {"text": "a", "topic": "t", "label": "favor", "p_favor": bad, "p_against": 0, "p_none": 0}
                )
            ],
        )
        with pytest.raises(DataError, match=message):
            list(iter_file(path, probs=("p_favor", "p_against", "p_none")))


def test_label_probability_columns_of_a_source(tmp_path):
    from stance.config import DataSource
    from stance.data.examples import label_prob_columns

    assert label_prob_columns(DataSource("gwsd_desmog")) == ("p_agree", "p_disagree", "p_neutral")
    assert label_prob_columns(DataSource("mine.csv")) == ("p_favor", "p_against", "p_none")
    mapped = DataSource("mine.csv", columns={"p_favor": "yes", "p_against": "no", "p_none": "other"})
    assert label_prob_columns(mapped) == ("yes", "no", "other")
    path = write(tmp_path / "mine.csv", ["text,topic,label,yes,no", "we agree,tax,favor,0.9,0.1"])
    with pytest.raises(DataError, match=r"mine.csv:1: the header has no column 'other'"):
        list(iter_file(path, probs=label_prob_columns(mapped)))
    write(path, ["text,topic,label,yes,no,other", "we agree,tax,favor,0.9,0.1,0"])
    assert [e.probs for e in iter_file(path, probs=label_prob_columns(mapped))] == [(0.9, 0.1, 0.0)]


def test_a_split_seed_shares_the_dev_rows_and_leaves_the_order_to_the_seed(data_dir):
    # members of one ensemble: other seeds (order, init), one split, so no member trained on the
    # rows the ensemble is scored on; -1 (the default) follows train.seed as before
    from pathlib import Path

    from stance.config import load_config
    from training.splits import prepare_sources

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"

    def drawn(**overrides):
        return prepare_sources(load_config(smoke, {"data.eval": "[]", **overrides}))

    train42, dev42, _ = drawn(**{"train.seed": "42"})
    train7, dev7, _ = drawn(**{"train.seed": "7"})
    shared7, shared_dev, _ = drawn(**{"train.seed": "7", "data.split_seed": "42"})
    assert dev7 != dev42 and shared_dev == dev42
    assert sorted(e.text for e in shared7) == sorted(e.text for e in train42)
    assert [e.text for e in shared7] != [e.text for e in train42]
    assert drawn(**{"train.seed": "42", "data.split_seed": "42"})[0] == train42
