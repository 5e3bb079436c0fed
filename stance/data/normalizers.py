"""One normaliser per public stance set: upstream files in, ``{split: rows}`` out.

Each function takes the set's upstream files as ``{file name: bytes}`` and returns the rows of
``normalized/<split>.jsonl``: ``text``, ``topic``, ``label`` (favor / against / none) first, then
the set's own extra fields. The output is exactly the normalised copies kept beside the project
(``../shared/data/stance/*/normalized``), row for row and byte for byte; the tests check this.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping

from stance.labels import normalize_label

Files = Mapping[str, bytes]
Splits = dict[str, list[dict]]


def _csv_rows(raw: bytes, encoding: str = "utf-8", **options) -> Iterator[dict]:
    return csv.DictReader(io.StringIO(raw.decode(encoding), newline=""), **options)


def semeval2016(files: Files) -> Splits:
    """SemEval-2016 Task 6: Windows-1252 TSV ``ID, Target, Tweet, Stance``; the ``#SemST`` tag stays."""

    def rows(name: str) -> list[dict]:
        reader = _csv_rows(files[name], "cp1252", delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            {"text": r["Tweet"], "topic": r["Target"], "label": normalize_label(r["Stance"]), "id": r["ID"]}
            for r in reader
        ]

    return {
        "train": rows("semeval2016-task6-trainingdata.txt"),
        "test": rows("SemEval2016-Task6-subtaskA-testdata-gold.txt"),
        "test_taskB_trump": rows("SemEval2016-Task6-subtaskB-testdata-gold.txt"),
    }


# Which VAST test rows are few-shot (their topic occurs in train): bit i (most significant first)
# is row i of the 3,006-row test file. Upstream's `seen?` column was lost in the 3-column copy; it
# was recovered from BinLiang-NLP/PT-HCL @ 49b464b9 by marking the rows of
# vast_data/all_vast_test.raw (the same 3,006 rows in the same order, all labels equal) that
# occur in vast_data/few_vast_test.raw (1,546 rows). It carries no text, only split membership.
_VAST_FEWSHOT_BITS = (
    "3f5d4dd06fa2bf99b3596a4000626aec5569cdf1dc0c33087e8fa5bf57ebe340a0b2a5977a3aeca9755efc25"
    "6760eb7aac7bdbe55d492d03373ff66f18e09e4850f8f119a1571a566b00f3962edcbabcd109ebd5789ef7bf"
    "3c0c11aa435926d8bf6e1c0007d9ab0d39512f44340b28a230346177497f3a049de0dc123463b85d389c0764"
    "dcab5f32c3d280e3d52c4dfafb0a506fc1f23fe51be9468522f000968d17b17602309ef76af7df8c4f730e1e"
    "800d56fe1766c351fb5039933cc29ce0e76de5f9cfab0fdb83b5bd5dfc6a81bf7b26f893700b06179e7e93fe"
    "66776e57e09d2a020171ff2b42fc35f14c7a371c200ddfbfc8008351df2ffbc57610d5e1f40bae831b42a341"
    "c7e7b7067b8a61fdcae7c595dacf61eeba1ec70758c6c6bd64bd40fa130236d880b04d9fdc7bc9175c56a0c2"
    "ead8c6c62572b6861c3dc0259adeae8eee10378e3ebc764a04bc8101d612645e39eacd637f599eef64b1da70"
    "9fa59b65760b1e03aeb7b3047aca255a4d54176dabe73734"
)
_VAST_TEST_ROWS = 3006


def _vast_fewshot_flags() -> list[int]:
    packed = bytes.fromhex("".join(_VAST_FEWSHOT_BITS))
    bits = bin(int.from_bytes(packed, "big"))[2:].zfill(len(packed) * 8)
    return [int(bit) for bit in bits[:_VAST_TEST_ROWS]]


def _vast_label(value: str) -> str:
    # upstream codes: 0 = con, 1 = pro, 2 = neutral
    return ("against", "favor", "none")[int(value)]


def vast(files: Files) -> Splits:
    """VAST: upstream train CSV (in a zip) and a 3-column copy of the test CSV.

    Besides ``train`` and ``test`` (split into zero-shot and few-shot topics), writes the
    ``*_clean`` test files: in the 3-column test copy, synthetic ``none`` rows kept the comment's
    own topic instead of the borrowed one, so most of them repeat a (text, topic) pair that is
    also labelled favor or against. No model can get those right; the clean files drop exactly
    those ``none`` rows.
    """
    with zipfile.ZipFile(io.BytesIO(files["vast_train.zip"])) as archive:
        train_csv = archive.read("vast_train.csv")
    train = [
        {
            "text": r["post"],
            "topic": r["topic_str"],
            "label": _vast_label(r["label"]),
            "orig_label": int(r["label"]),
            "new_topic": r["new_topic"],
            "type_idx": int(r["type_idx"]),
            "new_id": int(r["new_id"]),
            "contains_topic": int(r["contains_topic?"]),
        }
        for r in _csv_rows(train_csv)
    ]
    raw_test = list(_csv_rows(files["vast_test_text_target_label.csv"]))
    if len(raw_test) != _VAST_TEST_ROWS:
        raise ValueError(f"VAST test: expected {_VAST_TEST_ROWS} rows, found {len(raw_test)}")
    test = [
        {
            "text": r["text"],
            "topic": r["target"],
            "label": _vast_label(r["label"]),
            "orig_label": int(r["label"]),
            "seen": seen,
        }
        for r, seen in zip(raw_test, _vast_fewshot_flags(), strict=True)
    ]
    stanced = {(r["text"], r["topic"]) for r in test if r["label"] != "none"}
    clean = [r for r in test if not (r["label"] == "none" and (r["text"], r["topic"]) in stanced)]
    splits = {"train": train}
    for suffix, rows in (("", test), ("_clean", clean)):
        splits[f"test{suffix}"] = rows
        splits[f"test_zeroshot{suffix}"] = [r for r in rows if r["seen"] == 0]
        splits[f"test_fewshot{suffix}"] = [r for r in rows if r["seen"] == 1]
    return splits


def arc(files: Files) -> Splits:
    """ARC (FNC-1 format): stance rows point at post bodies; unrelated and discuss count as none."""
    bodies = {int(r["Body ID"]): r["articleBody"] for r in _csv_rows(files["arc_bodies.csv"])}

    def rows(name: str) -> list[dict]:
        return [
            {
                "text": bodies[int(r["Body ID"])],
                "topic": r["Headline"],
                "label": normalize_label(r["Stance"]),
                "orig_label": r["Stance"],
                "body_id": int(r["Body ID"]),
            }
            for r in _csv_rows(files[name])
        ]

    return {"train": rows("arc_stances_train.csv"), "test": rows("arc_stances_test.csv")}


def perspectrum(files: Files) -> Splits:
    """PERSPECTRUM: one row per perspective id of each gold cluster, split by claim."""
    claims = json.loads(files["perspectrum_with_answers_v1.0.json"])
    pool = {p["pId"]: p["text"] for p in json.loads(files["perspective_pool_v1.0.json"])}
    split_of = json.loads(files["dataset_split_v1.0.json"])
    splits: Splits = {"train": [], "dev": [], "test": []}
    for claim in claims:
        rows = splits[split_of[str(claim["cId"])]]
        for cluster in claim["perspectives"]:
            label = {"SUPPORT": "favor", "UNDERMINE": "against"}[cluster["stance_label_3"]]
            rows.extend(
                {
                    "text": pool[pid],
                    "topic": claim["text"],
                    "label": label,
                    "claim_id": claim["cId"],
                    "pid": pid,
                }
                for pid in cluster["pids"]
            )
    return splits


PSTANCE_TARGETS = ("trump", "biden", "bernie")


def pstance(files: Files) -> Splits:
    """P-Stance: ``raw_<split>_<target>.csv`` with ``Tweet, Target, Stance``; targets in paper order."""
    return {
        split: [
            {"text": r["Tweet"], "topic": r["Target"], "label": normalize_label(r["Stance"])}
            for target in PSTANCE_TARGETS
            for r in _csv_rows(files[f"raw_{split}_{target}.csv"])
        ]
        for split in ("train", "val", "test")
    }


def _unspreadsheet(text: str) -> str:
    """Undo a spreadsheet's re-save of a CSV file as one ``;``-separated column.

    Each original line became one quoted cell, split further wherever the line held a ``;``, and
    padded with empty cells. Reading the file as ``;``-separated CSV and joining each row's cells
    with ``;`` (padding dropped) gives back the original lines, line breaks inside claims included.
    """
    lines = []
    for cells in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        while cells and cells[-1] == "":
            cells.pop()
        lines.append(";".join(cells))
    return "\n".join(lines)


def ibm_claim_stance(files: Files) -> Splits:
    """IBM Debater claim stance: claims vs debate motions, PRO/CON, topic-disjoint train/test."""
    text = _unspreadsheet(files["claim_stance_dataset_v1.csv"].decode("utf-8"))
    splits: Splits = {"train": [], "test": []}
    for r in csv.DictReader(io.StringIO(text, newline="")):
        splits[r["split"]].append(
            {
                "text": r["claims.claimCorrectedText"],
                "topic": r["topicText"],
                "label": normalize_label(r["claims.stance"]),
                "topic_target": r["topicTarget"],
                "claim_id": r["claims.claimId"],
                "topic_id": r["topicId"],
            }
        )
    return splits


GWSD_TOPIC = "Climate change/global warming is a serious concern"


def gwsd(files: Files) -> Splits:
    """GWSD: news sentences on global warming; label = the most probable of agree/disagree/neutral.

    The first rows are annotator-screening items without probabilities; they are dropped.
    """
    splits: Splits = {"train": [], "test": []}
    for r in _csv_rows(files["GWSD.tsv"], delimiter="\t"):
        if not r["agree"]:
            continue
        probabilities = {
            "favor": float(r["agree"]),
            "against": float(r["disagree"]),
            "none": float(r["neutral"]),
        }
        splits["test" if r["in_held_out_test"] == "True" else "train"].append(
            {
                "text": r["sentence"],
                "topic": GWSD_TOPIC,
                "label": max(probabilities, key=probabilities.__getitem__),
                "p_agree": probabilities["favor"],
                "p_disagree": probabilities["against"],
                "p_neutral": probabilities["none"],
                "guid": r["guid"],
            }
        )
    return splits


# FNC-1 label map: `discuss` is "reports the claim without taking a side", the related-but-neutral
# `none` that news needs. `unrelated` (73 % of pairs: a headline from another story) is dropped:
# VAST's borrowed-topic rows and `data.swap_negatives` already teach "not about this topic", and
# kept at that rate it would drown the discuss/agree/disagree signal.
FNC1_LABELS: dict[str, str | None] = {
    "agree": "favor",
    "disagree": "against",
    "discuss": "none",
    "unrelated": None,
}
# The lead is extended past paragraphs shorter than this (datelines, photo credits, "(NEWSER) –")
# so that it carries a sentence of the story; the median first paragraph is 28 words.
FNC1_MIN_LEAD_WORDS = 20
# Share of training bodies held out as dev: whole bodies, chosen by a hash of their lead, so
# bodies that share a lead (reposts of one wire story) fall on the same side.
FNC1_DEV_PERCENT = 10


def fnc1_lead(body: str) -> tuple[str, str | None]:
    """(lead, next paragraph) of an article body: the text and context of an FNC-1 row.

    Paragraphs are the body's non-empty lines. The lead is the first paragraph, extended by the
    following ones until it has :data:`FNC1_MIN_LEAD_WORDS` words; the context is the paragraph
    after the lead (None when the body ends there).

    Example:
        >>> fnc1_lead("(AP) -\\n\\nThe mayor denied the report on Monday, calling it false.\\nMore.")
        ('(AP) - The mayor denied the report on Monday, calling it false.', 'More.')
    """
    paragraphs = [p.strip() for p in body.splitlines() if p.strip()]
    lead: list[str] = []
    while paragraphs and (not lead or len(" ".join(lead).split()) < FNC1_MIN_LEAD_WORDS):
        lead.append(paragraphs.pop(0))
    return " ".join(lead), paragraphs[0] if paragraphs else None


def _fnc1_is_dev(body: str) -> bool:
    digest = hashlib.sha256(fnc1_lead(body)[0].encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < FNC1_DEV_PERCENT


def fnc1(files: Files) -> Splits:
    """FNC-1: headline claim vs article body, one row per related pair, splits disjoint by body.

    Each (headline, body) pair becomes one row: ``topic`` = the headline (a claim, not a short
    topic), ``text`` = the body's lead (:func:`fnc1_lead`), ``context`` = the paragraph after it.
    Only the lead is read: news states its take on the story up front, while later paragraphs are
    background and quotes that often take no side on the headline, so labelling them with the
    body's agree/disagree would teach noise; headline + lead + the start of the next paragraph is
    also about what fits in 96 to 128 tokens. Labels follow :data:`FNC1_LABELS`.

    Upstream's ``train_stances.csv`` (49,972 pairs) is read as the union of UKP's two 9:1 files.
    Those two share bodies, so ``train``/``dev`` are re-split here by body
    (:data:`FNC1_DEV_PERCENT` % of bodies to dev, by a hash of the lead); the 10 training bodies
    whose text reappears in the competition test are left out of both, so no body is on two
    sides. ``test`` is the competition test set.
    """

    def bodies(name: str) -> dict[int, str]:
        return {int(r["Body ID"]): r["articleBody"] for r in _csv_rows(files[name])}

    def rows(stances: list[dict], texts: dict[int, str]) -> list[dict]:
        out = []
        for r in stances:
            label = FNC1_LABELS[r["Stance"]]
            if label is None:
                continue
            body_id = int(r["Body ID"])
            lead, context = fnc1_lead(texts[body_id])
            out.append(
                {
                    "text": lead,
                    "topic": r["Headline"].strip(),
                    "label": label,
                    "context": context,
                    "orig_label": r["Stance"],
                    "body_id": body_id,
                }
            )
        return out

    train_bodies = bodies("train_bodies.csv")
    test_bodies = bodies("competition_test_bodies.csv")
    in_test = set(test_bodies.values())

    def is_dev(stance: dict) -> bool:
        return _fnc1_is_dev(train_bodies[int(stance["Body ID"])])

    stances = [
        r
        for name in ("ukp_train_train_stances_9_1.csv", "ukp_train_test_stances_9_1.csv")
        for r in _csv_rows(files[name])
        if train_bodies[int(r["Body ID"])] not in in_test
    ]
    return {
        "train": rows([r for r in stances if not is_dev(r)], train_bodies),
        "dev": rows([r for r in stances if is_dev(r)], train_bodies),
        "test": rows(list(_csv_rows(files["competition_test_stances.csv"])), test_bodies),
    }
