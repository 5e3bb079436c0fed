"""StanceClassifier behaviour on a tiny random model: shapes, save/load, batching, errors."""

import json

import pytest
import torch

from stance.labels import LABELS, normalize_label
from stance.model.classifier import ModelLoadError, StanceClassifier, StancePrediction

TEXTS = [
    "we support the deal",
    "we oppose the accord",
    "the talks are about tax",
    "a much longer text about the nuclear deal and the accord and iran and russia",
    "no",
    "vote for peace",
    "great deal",
    "terrible war",
    "climate change is real",
]


def test_predict_returns_one_prediction_per_text_in_order(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    preds = clf.predict(TEXTS, "the deal")
    assert len(preds) == len(TEXTS)
    for p in preds:
        assert isinstance(p, StancePrediction)
        assert set(p.scores) == set(LABELS)
        assert abs(sum(p.scores.values()) - 1) < 1e-5
        assert p.label == max(p.scores, key=p.scores.get) and p.score == p.scores[p.label]


def test_single_text_gives_a_list_of_one(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    one = clf.predict("we support the deal", "the deal")
    assert isinstance(one, list) and len(one) == 1
    assert one[0] == clf.predict(["we support the deal"], ["the deal"])[0]


def test_batch_size_does_not_change_outputs(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    a = clf.predict_proba(TEXTS, "the deal", batch_size=1)
    b = clf.predict_proba(TEXTS, "the deal", batch_size=8)
    assert torch.allclose(a, b, atol=1e-5)


def test_save_load_predict_agree(tiny_model, tmp_path):
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.save_pretrained(tmp_path / "copy")
    again = StanceClassifier.from_pretrained(tmp_path / "copy")
    assert torch.allclose(clf.predict_proba(TEXTS, "iran"), again.predict_proba(TEXTS, "iran"))
    assert again.labels == list(LABELS)


def test_contexts_change_the_input(tiny_model):
    clf = StanceClassifier.from_pretrained(tiny_model)
    plain = clf.predict_proba(["we oppose the accord"], "the jcpoa")
    with_context = clf.predict_proba(
        ["we oppose the accord"], "the jcpoa", contexts=["the accord is the jcpoa"]
    )
    assert not torch.allclose(plain, with_context)


def test_labels_come_from_the_saved_config(tiny_model, tmp_path):
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.model.config.id2label = {0: "none", 1: "favor", 2: "against"}
    clf.model.config.label2id = {"none": 0, "favor": 1, "against": 2}
    clf.save_pretrained(tmp_path / "reordered")
    again = StanceClassifier.from_pretrained(tmp_path / "reordered")
    assert again.labels == ["none", "favor", "against"]
    probs = again.predict_proba(["we support the deal"], "the deal")[0]
    pred = again.predict("we support the deal", "the deal")[0]
    assert pred.scores["none"] == pytest.approx(probs[0].item())


@pytest.mark.parametrize(
    ("texts", "topics", "message"),
    [
        (["ok", ""], "t", "texts[1]"),
        (["ok"], [""], "topics[0]"),
        (["a", "b", "c"], ["x", "y"], "topics"),
    ],
)
def test_bad_inputs_raise_clear_errors(tiny_model, texts, topics, message):
    clf = StanceClassifier.from_pretrained(tiny_model)
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        clf.predict(texts, topics)


def test_missing_or_corrupt_model_folder_is_named(tiny_model, tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        StanceClassifier.from_pretrained(tmp_path / "nope")
    broken = tmp_path / "broken"
    StanceClassifier.from_pretrained(tiny_model).save_pretrained(broken)
    data = bytearray((broken / "model.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (broken / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256"):
        StanceClassifier.from_pretrained(broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="missing model.safetensors"):
        StanceClassifier.from_pretrained(broken)


def test_int8_agrees_with_fp32_on_most_inputs(tiny_model):
    fp32 = StanceClassifier.from_pretrained(tiny_model)
    int8 = StanceClassifier.from_pretrained(tiny_model, quantize="int8")
    a = fp32.predict_proba(TEXTS, "the deal")
    b = int8.predict_proba(TEXTS, "the deal")
    assert (a - b).abs().max() < 0.1
    with pytest.raises(ValueError, match="fp32"):
        int8.save_pretrained("unused")


def test_failed_save_leaves_the_old_model(tiny_model, tmp_path, monkeypatch):
    target = tmp_path / "model"
    clf = StanceClassifier.from_pretrained(tiny_model)
    clf.save_pretrained(target)
    before = (target / "checksums.json").read_text()

    def boom(folder):
        (folder / "partial.bin").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(clf, "write_to", boom)
    with pytest.raises(RuntimeError):
        clf.save_pretrained(target)
    assert (target / "checksums.json").read_text() == before
    assert not (target / "partial.bin").exists()
    assert json.loads(before)["model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


@pytest.mark.parametrize(("raw", "label"), [("FAVOR", "favor"), ("con", "against"), ("Neutral", "none")])
def test_label_aliases(raw, label):
    assert normalize_label(raw) == label


def test_unknown_label_is_rejected():
    with pytest.raises(ValueError, match="unknown stance label"):
        normalize_label("maybe")


def _copy(folder, tmp_path, name):
    import shutil

    target = tmp_path / name
    shutil.copytree(folder, target)
    return target


def _resave(folder, state_dict, tmp_path):
    """Rewrite a folder's weights (and its checksum, so only the contents are wrong)."""
    from safetensors.torch import save_file

    from stance.model.folder import write_checksums

    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(folder / "model.safetensors"))
    write_checksums(folder)


def test_a_model_without_its_head_is_refused_not_randomly_initialised(tiny_model, tmp_path):
    from safetensors.torch import load_file

    headless = _copy(tiny_model, tmp_path, "headless")
    weights = load_file(str(headless / "model.safetensors"))
    _resave(headless, {k: v for k, v in weights.items() if not k.startswith("classifier.")}, tmp_path)
    with pytest.raises(ModelLoadError, match=r"headless does not fit its architecture: 2 missing weight"):
        StanceClassifier.from_pretrained(headless)


def test_weights_of_another_architecture_are_refused(tiny_model, tmp_path):
    from safetensors.torch import load_file

    other = _copy(tiny_model, tmp_path, "other")
    weights = load_file(str(other / "model.safetensors"))
    weights["bert.pooler.dense.weight"] = torch.zeros(32, 32)
    _resave(other, weights, tmp_path)
    with pytest.raises(ModelLoadError, match="other does not fit its architecture: 1 unexpected weight"):
        StanceClassifier.from_pretrained(other)


def test_a_trained_folder_without_checksums_needs_allow_unverified(tiny_model, tmp_path):
    from stance.errors import ModelUnverifiedError

    bare = _copy(tiny_model, tmp_path, "bare")
    (bare / "checksums.json").unlink()
    with pytest.raises(ModelUnverifiedError, match="bare has no checksums.json.*--allow-unverified"):
        StanceClassifier.from_pretrained(bare)
    assert StanceClassifier.from_pretrained(bare, allow_unverified=True).labels == list(LABELS)


def test_a_topic_check_on_another_thread_never_unsets_the_models_truncation(tiny_model):
    """The service checks topics on its event loop while the model thread encodes. With one
    shared fast tokenizer, whose truncation is switched on and off in place before each call, the
    check switched it off between the model thread's switching it on and its encoding, and pairs
    of hundreds of tokens reached a model that reads 32."""
    import threading

    from stance.pairs import StancePair

    clf = StanceClassifier.from_pretrained(tiny_model)
    long_pairs = [StancePair(reading="word " * 300, topic="a topic")] * 16
    topics = [StancePair(reading="x", topic=f"topic {i} " * 3) for i in range(16)]
    longest, stop = [], threading.Event()

    def encode() -> None:
        while not stop.is_set():
            longest.append(max(map(len, clf.encode_pairs(long_pairs)["input_ids"])))

    thread = threading.Thread(target=encode)
    thread.start()
    try:
        for _ in range(400):
            clf.check_pairs(topics)
    finally:
        stop.set()
        thread.join()
    assert longest and max(longest) <= clf.max_length
