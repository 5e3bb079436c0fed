"""FNC-1 as a training set: the lead paragraph pairing, the label map and body-disjoint splits."""

from __future__ import annotations

import csv
import io

from stance.data.examples import load_examples
from stance.data.normalizers import fnc1, fnc1_lead


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _files(bodies: dict[int, str], stances: list[tuple[str, int, str]], test_bodies=None, test_stances=()):
    return {
        "train_bodies.csv": _csv(["Body ID", "articleBody"], list(bodies.items())),
        "ukp_train_train_stances_9_1.csv": _csv(["Headline", "Body ID", "Stance"], stances[::2]),
        "ukp_train_test_stances_9_1.csv": _csv(["Headline", "Body ID", "Stance"], stances[1::2]),
        "competition_test_bodies.csv": _csv(["Body ID", "articleBody"], list((test_bodies or {}).items())),
        "competition_test_stances.csv": _csv(["Headline", "Body ID", "Stance"], list(test_stances)),
    }


def test_the_lead_skips_datelines_and_the_next_paragraph_is_context():
    body = (
        "(NEWSER) –\n\n"
        "Officials in Managua said on Sunday that a small meteorite left a deep crater "
        "near the city's busy airport overnight.\n"
        "Residents heard a boom.\n\n"
        "Experts will study the site."
    )
    lead, context = fnc1_lead(body)
    assert lead.startswith("(NEWSER) – Officials in Managua said")
    assert context == "Residents heard a boom."


def test_a_short_body_is_all_lead_without_context():
    assert fnc1_lead("Only one short paragraph.\n") == ("Only one short paragraph.", None)


def test_label_map_keeps_news_stances_and_drops_unrelated():
    body = "The mayor said on Monday that the bridge will reopen next week after the repairs are done."
    splits = fnc1(
        _files(
            {1: body},
            [
                ("Bridge to reopen next week", 1, "agree"),
                ("Bridge will stay closed for a year", 1, "disagree"),
                ("Mayor talks about the bridge", 1, "discuss"),
                ("Pop star marries in secret", 1, "unrelated"),
            ],
        )
    )
    rows = splits["train"] + splits["dev"]
    assert {(r["topic"], r["label"], r["orig_label"]) for r in rows} == {
        ("Bridge to reopen next week", "favor", "agree"),
        ("Bridge will stay closed for a year", "against", "disagree"),
        ("Mayor talks about the bridge", "none", "discuss"),
    }
    assert all(r["text"] == body and r["context"] is None for r in rows)


def test_train_and_dev_share_no_body_and_test_bodies_stay_out_of_both():
    bodies = {
        i: f"Story number {i} opens with a lead that is long enough to stand on its own here."
        for i in range(60)
    }
    bodies[60] = "A wire story that the competition test set reprints word for word in its own bodies file."
    stances = [(f"Claim {i % 9}", i, "discuss") for i in bodies] + [
        (f"Other {i}", i, "agree") for i in bodies
    ]
    splits = fnc1(_files(bodies, stances, {7: bodies[60]}, [("Wire claim", 7, "agree")]))
    train_bodies = {r["body_id"] for r in splits["train"]}
    dev_bodies = {r["body_id"] for r in splits["dev"]}
    assert train_bodies and dev_bodies and not train_bodies & dev_bodies
    assert not {r["text"] for r in splits["train"]} & {r["text"] for r in splits["dev"]}
    assert 60 not in train_bodies | dev_bodies
    assert [(r["topic"], r["label"]) for r in splits["test"]] == [("Wire claim", "favor")]


def test_a_read_only_data_folder_with_originals_only_is_normalised_into_the_cache(tmp_path, monkeypatch):
    bodies = {
        i: f"Story {i} has a lead paragraph that runs to well over twenty words so it stands alone."
        for i in range(30)
    }
    files = _files(bodies, [(f"Claim {i}", i, "agree") for i in bodies])
    original = tmp_path / "data" / "stance" / "fnc1" / "original"
    original.mkdir(parents=True)
    for name, raw in files.items():
        (original / name).write_bytes(raw)
    original.chmod(0o555)
    monkeypatch.setenv("STANCE_DATA_DIR", str(tmp_path / "data"))
    try:
        train = load_examples("fnc1:train")
        dev = load_examples("fnc1:dev")
    finally:
        original.chmod(0o755)
    assert len(train) + len(dev) == 30
    assert not (original.parent / "normalized").exists()
    assert {e.label for e in train} == {"favor"} and all(e.topic.startswith("Claim") for e in train)
