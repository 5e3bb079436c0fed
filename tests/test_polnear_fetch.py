"""`stance data fetch polnear`: every file from a local HTTP server laid out like the upstream
repository at the pinned commit, sha256-checked; a wrong file leaves nothing behind."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from stance.data import polnear as polnear_module
from stance.data.fetch import FetchError, fetch, licence_notice, plan
from stance.data.polnear import COMMIT, REPOSITORY, polnear_files
from stance.data.sources import RemoteFile

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "quotes" / "polnear"

# two articles of our own in the PolNeAR layout (brat standoff)
FILES = {
    "dev/text/a1.txt": b"He said the talks would resume.\n",
    "dev/attributions/a1_4b22.ann": b"T1\tSource 0 2\tHe\nT2\tCue 3 7\tsaid\n"
    b"T3\tContent 8 30\tthe talks would resume\n"
    b"E1\tAttribution:T2 Content:T3 Cue:T2 Source:T1\n",
    "metadata.tsv": b"compartment\tfilename\n",
}


@pytest.fixture()
def server(tmp_path):
    """(folder, address) of a local HTTP server for the mirror layout owner/repo/commit/path."""
    root = tmp_path / "mirror"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Quiet(*a, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def tiny_polnear(monkeypatch, server):
    """The manifest swapped for our three files, served by ``server``."""
    root, _ = server
    remotes = []
    for name, body in FILES.items():
        remote = RemoteFile(
            name, f"{REPOSITORY}/{COMMIT}/data/{name}", hashlib.sha256(body).hexdigest(), len(body)
        )
        (root / remote.path).parent.mkdir(parents=True, exist_ok=True)
        (root / remote.path).write_bytes(body)
        remotes.append(remote)
    monkeypatch.setattr(polnear_module, "polnear_files", lambda: tuple(remotes))
    return remotes


def test_fetch_lays_out_polnear_as_the_reader_expects(tiny_polnear, server, tmp_path):
    from training.polnear import load_polnear

    _, url = server
    assert fetch("polnear", tmp_path / "data", mirror=url) == [tmp_path / "data" / "quotes" / "polnear"]
    folder = tmp_path / "data" / "quotes" / "polnear"
    assert {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} == set(FILES)
    [article] = load_polnear("dev", folder)
    assert article.reported[0].source == "He" and ("Cue", 3, 7) in article.roles


def test_a_wrong_file_leaves_nothing_and_a_good_copy_stays(tiny_polnear, server, tmp_path):
    root, url = server
    (root / tiny_polnear[0].path).write_bytes(b"He said the talks would RESUME.\n")  # same size, other bytes
    with pytest.raises(FetchError, match="sha256"):
        fetch("polnear", tmp_path / "data", mirror=url)
    assert not (tmp_path / "data" / "quotes" / "polnear").exists()
    (root / tiny_polnear[0].path).write_bytes(FILES["dev/text/a1.txt"])
    fetch("polnear", tmp_path / "data", mirror=url)
    shutil.rmtree(root / REPOSITORY.split("/")[0])  # verified files are not fetched again
    assert fetch("polnear", tmp_path / "data", mirror=url)[0].is_dir()


def test_polnear_is_listed_and_planned_with_its_terms(tmp_path):
    assert plan(["polnear"]) == ["polnear"]
    assert plan([], "configs/attribution.yaml", root=tmp_path) == ["polnear"]
    notice = licence_notice("polnear")
    assert "networkdynamics/PolNeAR@c3eee833" in notice and "Research use only" in notice


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared PolNeAR copy not present")
def test_the_manifest_pins_every_file_of_the_shared_copy():
    files = polnear_files()
    assert len(files) == 2144
    on_disk = {str(p.relative_to(SHARED)) for p in SHARED.rglob("*") if p.is_file() and p.name != "README.md"}
    assert {f.name for f in files} == on_disk
    for remote in files[::97]:  # a sample keeps the test fast; the full check is the fetch itself
        assert hashlib.sha256((SHARED / remote.name).read_bytes()).hexdigest() == remote.sha256
