"""Atomic writes: a crash never leaves a half-written file or model folder where a good one was.

Replacing a folder swaps the new one in with one ``renameat2(RENAME_EXCHANGE)`` call on Linux, so
a reader (a service loading the model) finds the old or the new complete folder at every moment,
never nothing. Where that call is missing (other systems, some file systems) the old folder is
renamed aside and the new one renamed in: two renames, microseconds apart.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_TMP_MARK = ".tmp-"
_OLD_MARK = ".old-"


def _libc_renameat2():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    function = getattr(ctypes.CDLL(name, use_errno=True), "renameat2", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_renameat2 = _libc_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False when the system cannot (then nothing changed)."""
    if _renameat2 is None:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove temporary siblings of ``target`` left by killed runs (their process is gone)."""
    removed = []
    for mark in (_TMP_MARK, _OLD_MARK):
        for path in target.parent.glob(f".{target.name}{mark}*"):
            pid = path.name.removeprefix(f".{target.name}{mark}").split("-")[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                logger.info("removing %s, left by a run that was killed", path)
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def _readable_by_all(folder: Path) -> None:
    """mkdtemp makes 0700 folders; a model is read by services running as other users."""
    umask = os.umask(0)
    os.umask(umask)
    for root, dirs, files in os.walk(folder):
        for name in dirs + ["."]:
            os.chmod(os.path.join(root, name), 0o777 & ~umask | stat.S_IRUSR | stat.S_IXUSR)
        for name in files:
            path = os.path.join(root, name)
            os.chmod(path, (os.stat(path).st_mode | 0o444) & ~umask)


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a fresh sibling folder; on success it replaces ``target``, on error it is removed.

    The folder gets the usual permissions (group and others may read, as the umask allows).
    Temporary folders of earlier runs that were killed are removed first.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{_TMP_MARK}{os.getpid()}-", dir=target.parent))
    try:
        yield tmp
        _readable_by_all(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists() and exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
        return
    old = None
    if target.exists():
        old = target.parent / f".{target.name}{_OLD_MARK}{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: str | Path, mode: str = "w") -> Iterator:
    """Open a temporary sibling for writing; it is renamed onto ``target`` only on success.

    Raises:
        IsADirectoryError: ``target`` is a folder (before anything is written).
        OSError: the folder of ``target`` cannot be made or written (naming the path).
    """
    target = Path(target)
    if target.is_dir():
        # else the rename at the end fails, naming the temporary file instead of the target
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
