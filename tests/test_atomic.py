"""atomic_dir / atomic_file: no moment without the target, stale temporaries cleaned, readable by all."""

from __future__ import annotations

import os
import stat

import pytest

import stance.atomic as atomic
from stance.atomic import atomic_dir, atomic_file


def _write(folder, text):
    (folder / "weights").write_text(text)


def test_replacing_a_folder_never_leaves_a_moment_without_it(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        _write(tmp, "v1")
    real_replace, real_exchange = os.replace, atomic.exchange
    missing_at = []

    def watched_replace(src, dst):
        missing_at.append(not target.exists())
        return real_replace(src, dst)

    def watched_exchange(a, b):
        missing_at.append(not target.exists())
        return real_exchange(a, b)

    monkeypatch.setattr(os, "replace", watched_replace)
    monkeypatch.setattr(atomic, "exchange", watched_exchange)
    with atomic_dir(target) as tmp:
        _write(tmp, "v2")
    assert (target / "weights").read_text() == "v2"
    # every rename happened while the target existed
    assert missing_at and not any(missing_at)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not atomic.exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path):
    target = tmp_path / "model"
    dead = tmp_path / ".model.tmp-999999999-abc"
    live = tmp_path / f".model.tmp-{os.getppid()}-xyz"  # a running process: maybe another run
    old = tmp_path / ".model.old-999999999"
    for folder in (dead, live, old):
        folder.mkdir()
    with atomic_dir(target) as tmp:
        _write(tmp, "v1")
    assert not dead.exists() and not old.exists() and live.exists()


def test_outputs_are_readable_by_group_and_others(tmp_path):
    previous = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "model") as tmp:
            _write(tmp, "v1")
            (tmp / "sub").mkdir()
        with atomic_file(tmp_path / "results.json") as handle:
            handle.write("{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "model" / "weights").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_folder_and_no_temporaries(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        _write(tmp, "v1")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            _write(tmp, "half")
            raise RuntimeError("killed")
    assert (target / "weights").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_file_onto_a_folder_is_refused_naming_the_folder_and_writes_nothing(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        with atomic_file(folder) as handle:
            handle.write("{}")
    assert caught.value.filename == str(folder)  # not the temporary file's name
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any(folder.iterdir())
