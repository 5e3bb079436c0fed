"""`stance data fetch`: pinned files from a local HTTP mirror, verified, normalised; failures keep nothing.

The reproduction tests serve the upstream files kept in ../shared/data/stance/*/original and check
that fetch + normalisation gives the shared normalized JSONL byte for byte (skipped without
../shared). The failure tests use a tiny set of their own.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import struct
import threading
from pathlib import Path

import pytest

from stance.config import load_config
from stance.data import fetch as fetch_module
from stance.data import normalizers
from stance.data.fetch import FetchError, Unreachable, build_mirror, fetch, missing_sets, needed_sets, plan
from stance.data.sources import SOURCES, PublicSet, RemoteFile, fetchable_sets

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

# A GWSD-shaped file with sentences of our own: header, one screening row without
# probabilities (dropped), two rated rows.
TINY_TSV = (
    b"\tround\tbatch\tsent_id\tsentence\tdisagree\tagree\tneutral\tguid\tin_held_out_test\n"
    b"0\t1\t0\ts0\tA screening sentence.\t\t\t\t1_0_s0\tFalse\n"
    b"1\t1\t0\tt0\tThe glaciers keep shrinking.\t0.1\t0.7\t0.2\t1_0_t0\tFalse\n"
    b"2\t1\t0\tt1\tIt is all a scare.\t0.8\t0.1\t0.1\t1_0_t1\tTrue\n"
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; paths listed in ``faults`` misbehave on purpose."""

    faults: dict[str, str] = {}

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        fault = self.faults.get(self.path.lstrip("/"))
        if fault is None:
            return super().do_GET()
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        if fault == "drop":
            # SO_LINGER 0: close with a reset, as a dropped connection looks to the client
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


@pytest.fixture()
def mirror(tmp_path):
    """(folder, base address) of a local HTTP server; set ``_Handler.faults`` to break files."""
    root = tmp_path / "mirror"
    root.mkdir()
    handler = type("Handler", (_Handler,), {"faults": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", handler.faults
    server.shutdown()
    server.server_close()


@pytest.fixture()
def tiny_set(monkeypatch, mirror):
    """A one-file set named ``tiny``, served by ``mirror``, normalised as GWSD."""
    root, _, _ = mirror
    remote = RemoteFile(
        "tiny.tsv", "owner/repo/0123abcd/tiny.tsv", hashlib.sha256(TINY_TSV).hexdigest(), len(TINY_TSV)
    )
    (root / remote.path).parent.mkdir(parents=True)
    (root / remote.path).write_bytes(TINY_TSV)
    dataset = PublicSet(
        "tiny",
        (remote,),
        lambda files: normalizers.gwsd({"GWSD.tsv": files["tiny.tsv"]}),
        "own test sentences",
        "none",
        folder="tiny_folder",
    )
    monkeypatch.setitem(SOURCES, "tiny", dataset)
    return remote


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_fetch_writes_normalized_jsonl_and_keeps_the_verified_original(tiny_set, mirror, tmp_path):
    _, url, _ = mirror
    written = fetch("tiny", tmp_path / "data", mirror=url)
    folder = tmp_path / "data" / "stance" / "tiny_folder"
    assert [p.name for p in written] == ["train.jsonl", "test.jsonl"]
    train = [json.loads(line) for line in (folder / "normalized" / "train.jsonl").read_text().splitlines()]
    assert [(r["text"], r["label"]) for r in train] == [("The glaciers keep shrinking.", "favor")]
    test = json.loads((folder / "normalized" / "test.jsonl").read_text())
    assert test["label"] == "against" and test["p_disagree"] == 0.8
    assert (folder / "original" / "tiny.tsv").read_bytes() == TINY_TSV


def test_a_second_fetch_reuses_the_verified_original(tiny_set, mirror, tmp_path):
    root, url, _ = mirror
    fetch("tiny", tmp_path / "data", mirror=url)
    (root / tiny_set.path).unlink()
    assert fetch("tiny", tmp_path / "data", mirror=url)[0].is_file()


def test_a_local_folder_from_the_environment_serves_as_mirror(tiny_set, mirror, tmp_path, monkeypatch):
    root, _, _ = mirror
    monkeypatch.setenv("STANCE_DATA_MIRROR", str(root))
    assert fetch("tiny", tmp_path / "data")[0].is_file()


@pytest.mark.parametrize(
    ("fault", "message"),
    [("wrong", "does not match the pinned"), ("truncate", "cut short"), ("drop", "connection dropped")],
)
def test_a_failed_download_leaves_no_file_behind(tiny_set, mirror, tmp_path, fault, message):
    root, url, faults = mirror
    if fault == "wrong":
        (root / tiny_set.path).write_bytes(TINY_TSV.replace(b"scare", b"Scare"))
    else:
        faults[tiny_set.path] = fault
    with pytest.raises(FetchError, match=message) as caught:
        fetch("tiny", tmp_path / "data", mirror=url)
    assert "Nothing was kept" in str(caught.value)
    assert _files_under(tmp_path / "data") == []


def test_an_unreachable_mirror_says_so(tiny_set, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unreachable, match="STANCE_DATA_MIRROR"):
        fetch("tiny", tmp_path / "data", mirror=f"http://127.0.0.1:{port}")
    assert _files_under(tmp_path / "data") == []


def test_a_mirror_without_the_file_is_named(tiny_set, mirror, tmp_path):
    root, url, _ = mirror
    (root / tiny_set.path).unlink()
    with pytest.raises(FetchError, match="HTTP 404.*the mirror"):
        fetch("tiny", tmp_path / "data", mirror=url)
    with pytest.raises(FetchError, match="lacks this file"):
        fetch("tiny", tmp_path / "data", mirror=str(root))


def test_quick_config_needs_vast_semeval_and_arc(tmp_path):
    needed = needed_sets(load_config(ROOT / "configs" / "quick.yaml"))
    assert needed == {"vast": {"train", "test_zeroshot_clean"}, "semeval2016": {"train"}, "arc": {"train"}}
    assert missing_sets(needed, None) == ["vast", "semeval2016", "arc"]
    for name, split in [("vast", "train"), ("vast", "test_zeroshot_clean"), ("semeval2016", "train")]:
        path = tmp_path / "stance" / SOURCES[name].folder / "normalized" / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    assert missing_sets(needed, tmp_path) == ["arc"]


def test_every_set_a_config_uses_can_be_fetched():
    from training.attribution import is_attribution_config

    for config in sorted((ROOT / "configs").glob("*.yaml")):
        if is_attribution_config(config):  # trains on PolNeAR: `stance data fetch polnear`
            continue
        assert set(needed_sets(load_config(config))) <= set(fetchable_sets())


def test_plan_rejects_unknown_names_and_empty_requests():
    with pytest.raises(FetchError, match="unknown data set"):
        plan(["vastt"])
    with pytest.raises(FetchError, match="or a config with --for"):
        plan([])


@pytest.mark.parametrize(
    ("content", "message"), [(b"a: [\n", "not valid YAML at line 2"), (b"task: \xff\n", "UTF-8")]
)
def test_plan_for_a_config_that_is_not_yaml_names_the_file(tmp_path, content, message):
    from stance.config import ConfigError

    config = tmp_path / "bad.yaml"
    config.write_bytes(content)
    with pytest.raises(ConfigError, match=f"bad.yaml: .*{message}"):
        plan([], config, root=tmp_path)


@pytest.mark.parametrize("address", ["http://[::1", "http://[oops/"])
def test_a_mirror_address_that_is_not_a_url_is_a_fetch_error_not_unreachable(tiny_set, tmp_path, address):
    with pytest.raises(FetchError, match="bad mirror address") as caught:
        fetch("tiny", tmp_path / "data", mirror=address)
    assert not isinstance(caught.value, Unreachable)  # --offline-ok does not hide a typo
    assert _files_under(tmp_path / "data") == []


def test_unspreadsheet_restores_semicolons_and_line_breaks():
    # the original lines: a,"b;c" / 1,"x" / 2,"two<CRLF>lines"
    mangled = '"a,""b";"c""";;;;\r\n"1,""x""";;;;\r\n"2,""two\r\nlines"""\r\n'
    assert normalizers._unspreadsheet(mangled) == 'a,"b;c"\n1,"x"\n2,"two\r\nlines"'


def test_vast_fewshot_flags_match_the_papers_split():
    flags = normalizers._vast_fewshot_flags()
    assert (len(flags), sum(flags)) == (3006, 1546)


@pytest.mark.skipif(not (SHARED / "stance").is_dir(), reason="../shared/data not present")
@pytest.mark.parametrize("name", list(fetchable_sets()))
def test_fetch_reproduces_the_shared_normalized_files(name, mirror, tmp_path):
    root, url, _ = mirror
    assert build_mirror(SHARED, root, [name]) == [name]
    written = fetch(name, tmp_path / "data", mirror=url)
    reference = SHARED / "stance" / SOURCES[name].folder / "normalized"
    if not reference.is_dir():
        pytest.skip(f"../shared/data keeps {name} as upstream files only (no normalized copy)")
    assert sorted(p.name for p in written) == sorted(p.name for p in reference.glob("*.jsonl"))
    for path in written:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == hashlib.sha256((reference / path.name).read_bytes()).hexdigest(), path.name


def test_licence_notice_names_source_and_terms():
    notice = fetch_module.licence_notice("semeval2016")
    assert "lordzuko/Transformer-Stance-Detection@c2889817" in notice and "do not redistribute" in notice
