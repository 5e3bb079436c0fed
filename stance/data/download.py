"""One verified download: a pinned file streamed from upstream or a mirror, kept only if it matches.

Every file ``stance data fetch`` brings in, a stance set's (:mod:`stance.data.fetch`) or
PolNeAR's (:mod:`stance.data.polnear`), goes through :func:`download`: it is written beside its
target and renamed into place only once its size and sha256 match, so a wrong file, a short
download or a dropped connection leave nothing behind.

``STANCE_DATA_MIRROR`` (a base address or a local folder, laid out as ``owner/repo/commit/path``
like raw.githubusercontent.com) replaces the upstream addresses.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from stance.atomic import atomic_file
from stance.data.sources import UPSTREAM, RemoteFile
from stance.errors import StanceError
from stance.files import sha256_file

MIRROR_ENV = "STANCE_DATA_MIRROR"
# Long enough for a slow mirror to answer, short enough that a machine without network moves on
# (to serving without a model) well inside `make serve`'s two-minute goal.
TIMEOUT_S = 20.0
_CHUNK = 1 << 16


class FetchError(StanceError, RuntimeError):
    """A set could not be fetched; the message says what failed and what to do."""


class Unreachable(FetchError):
    """No connection to the upstream address or the mirror (no byte was received)."""


def mirror_from_env() -> str | None:
    """The ``STANCE_DATA_MIRROR`` setting, or None when unset or empty."""
    return os.environ.get(MIRROR_ENV) or None


def locate(remote: RemoteFile, mirror: str | None = None) -> str:
    """Address (URL or local path) of ``remote`` upstream or on ``mirror``."""
    base = mirror or UPSTREAM
    if "://" in base:
        return f"{base.rstrip('/')}/{remote.path}"
    return str(Path(base).expanduser() / remote.path)


def _open(source: str) -> BinaryIO:
    if "://" not in source:
        return open(source, "rb")
    return urllib.request.urlopen(source, timeout=TIMEOUT_S)  # noqa: S310 (http(s) or file only)


def copy_verified(stream: BinaryIO, out: BinaryIO, source: str, remote: RemoteFile) -> None:
    """Copy ``stream`` into ``out``, counting and hashing as it goes (``source`` names it in errors).

    Raises:
        FetchError: the connection dropped, or the bytes are more, fewer or other than ``remote``'s.
    """
    digest = hashlib.sha256()
    received = 0
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except (OSError, http.client.HTTPException) as err:
            raise FetchError(
                f"{source}: the connection dropped after {received} of {remote.size} bytes ({err}). "
                "Nothing was kept; run the command again."
            ) from None
        if not chunk:
            break
        received += len(chunk)
        if received > remote.size:
            raise FetchError(
                f"{source}: more than the expected {remote.size} bytes; this is not the pinned "
                f"file. Nothing was kept; check {MIRROR_ENV} or report the changed upstream file."
            )
        digest.update(chunk)
        out.write(chunk)
    if received < remote.size:
        raise FetchError(
            f"{source}: the download was cut short at {received} of {remote.size} bytes. "
            "Nothing was kept; run the command again."
        )
    if digest.hexdigest() != remote.sha256:
        raise FetchError(
            f"{source}: sha256 {digest.hexdigest()} does not match the pinned {remote.sha256}. "
            f"Nothing was kept. The file differs from the one this release was checked against: "
            f"point {MIRROR_ENV} at a faithful copy, or report it."
        )


def download(remote: RemoteFile, target: str | Path, mirror: str | None = None) -> Path:
    """Stream ``remote`` into ``target``; it appears there only if its size and sha256 match.

    Args:
        remote: the file, with its pinned checksum and size.
        target: where to put it.
        mirror: a base address or local folder replacing :data:`stance.data.sources.UPSTREAM`.

    Raises:
        Unreachable: no connection could be made (nothing was received).
        FetchError: a mirror address that is not one, HTTP error, dropped connection, short or
            oversized file, checksum mismatch.
    """
    source = locate(remote, mirror)
    try:
        stream = _open(source)
    except urllib.error.HTTPError as err:
        where = f"the mirror {mirror}" if mirror else "upstream"
        raise FetchError(
            f"could not download {source}: HTTP {err.code} {err.reason}; {where} does not serve "
            f"this file. Check {MIRROR_ENV} (unset it to use the upstream addresses)."
        ) from None
    except FileNotFoundError:
        raise FetchError(
            f"{source} does not exist: the mirror folder {mirror} lacks this file "
            "(it is laid out as owner/repo/commit/path, like raw.githubusercontent.com)."
        ) from None
    except ValueError as err:
        # urllib refuses an address it cannot parse ("http://[::1": Invalid IPv6 URL) with a
        # ValueError before connecting: a typo, not a network that is down
        raise FetchError(
            f"bad mirror address {mirror or source!r} ({err}); give a base address (https://host/path) or a "
            f"local folder with --mirror or {MIRROR_ENV}"
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        raise Unreachable(
            f"could not reach {source} ({reason}). Check the network connection, or set "
            f"{MIRROR_ENV} to a mirror (a base address or a local folder)."
        ) from None
    with stream, atomic_file(target, "wb") as out:
        copy_verified(stream, out, source, remote)
    return Path(target)


def is_verified(path: Path, remote: RemoteFile) -> bool:
    """The file at ``path`` is there and has ``remote``'s pinned sha256."""
    return path.is_file() and sha256_file(path) == remote.sha256
