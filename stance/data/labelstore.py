"""The user's own stance labels, kept in SQLite: written by the page, read by evaluate and adapt.

Not to be confused with :mod:`stance.labels` (the label set and its spellings). A row keeps what
the model read (``text``, the reading, and ``context``), the topic, the user's label, what the
model said (label, probabilities, the weights' checksum), the article's hash, the speaker and the
time. Rows are scoped: the service stores the sha256 of the API key that wrote them (never the
key) or ``open`` when it runs without one, and a key only ever sees its own rows.

Durability: WAL journal, ``synchronous=FULL`` and one transaction per call, so :meth:`LabelStore.add`
returns only after its rows are on disk; a process killed at any moment loses at most the call
in flight, whose caller was not told it succeeded. One writer at a time: writes take SQLite's
write lock up front (``BEGIN IMMEDIATE``) and wait for it up to ``busy_timeout_s``, across threads
(one connection behind a lock) and processes (SQLite's file lock). The schema is versioned with
``PRAGMA user_version``; :data:`MIGRATIONS` are applied in order, each in its own transaction.

Rows are never updated: a second label for the same item (same scope, article, reading, context
and topic) is a new row, and :meth:`LabelStore.latest` keeps the newest one.

Example:
    >>> store = LabelStore("labels.sqlite3")
    >>> store.add(scope_of("my-key"), [LabelRecord(text="We will sign.", topic="the JCPOA", label="favor")])
    [1]
    >>> [r.label for r in store.latest(scope_of("my-key"))]
    ['favor']
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stance.errors import DataError, InputError, StanceError
from stance.files import decoded_lines, parse_json_object
from stance.labels import LABELS, normalize_label
from stance.pairs import require_text

NOT_A_QUOTE = "not_a_quote"
"""The label for "this is not a quote of this speaker": kept, counted, never trained on."""

USER_LABELS: tuple[str, ...] = (*LABELS, NOT_A_QUOTE)
OPEN_SCOPE = "open"
"""The scope of rows written to a service that runs without an API key."""

MIGRATIONS: tuple[str, ...] = (
    # 1: the labels table; created_at is Unix seconds (UTC)
    """
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL,
        item TEXT NOT NULL,
        text TEXT NOT NULL,
        context TEXT,
        topic TEXT NOT NULL,
        label TEXT NOT NULL,
        speaker TEXT,
        quote TEXT,
        article_hash TEXT,
        model_label TEXT,
        model_scores TEXT,
        model_checksum TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX labels_scope_id ON labels (scope, id);
    CREATE INDEX labels_scope_item ON labels (scope, item, id);
    """,
)
"""Schema versions in order; version N is ``MIGRATIONS[N-1]``. Append, never edit."""

DEFAULT_PATH = "labels.sqlite3"
"""Where the labels live unless ``STANCE_LABELS_DB`` (or the service's ``labels_db``) says otherwise."""

# 30 s: a writer waits this long for another process's write lock; writes take milliseconds
BUSY_TIMEOUT_S = 30.0


class LabelStoreError(StanceError):
    """The label database cannot be opened or is newer than this code."""


def default_path() -> Path:
    """``STANCE_LABELS_DB`` when set, else ``labels.sqlite3`` in the working directory."""
    return Path(os.environ.get("STANCE_LABELS_DB") or DEFAULT_PATH).expanduser()


def scope_of(api_key: str | None) -> str:
    """The scope rows are stored under: sha256 of the key, or ``open`` without one."""
    if not api_key:
        return OPEN_SCOPE
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def item_key(text: str, topic: str, context: str | None = None, article_hash: str | None = None) -> str:
    """What makes two labels "the same item": article, reading, context and topic (case-folded)."""
    parts = [article_hash or "", text.strip(), (context or "").strip(), topic.strip().lower()]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class LabelRecord:
    """One label as the user gave it, with what the model said about the same item.

    ``text`` is what the model read (the quote, or the sentence carrying a mixed or reported
    quote); ``quote`` the quote's own words when they differ.
    """

    text: str
    topic: str
    label: str
    context: str | None = None
    speaker: str | None = None
    quote: str | None = None
    article_hash: str | None = None
    model_label: str | None = None
    model_scores: dict[str, float] | None = None
    model_checksum: str | None = None
    created_at: float | None = None
    id: int | None = field(default=None, compare=False)

    def checked(self, where: str = "label") -> LabelRecord:
        """The record with its label normalised and every field's type checked.

        Only what fits :class:`LabelRecord`'s types is stored, so every stored row can be read
        back (``GET /v1/labels`` answers each one with a model built from these types).

        Raises:
            InputError: naming ``where`` and the field: a text or topic that is missing or empty, an
                unknown label, a text field holding another type or text that is not valid Unicode,
                a ``created_at`` that is not a finite number, a ``model_scores`` that is not an
                object of finite numbers.
        """
        for name in ("text", "topic", "label", *_OPTIONAL_TEXT):
            _check_text(getattr(self, name), name, where, optional=name in _OPTIONAL_TEXT)
        if not self.text.strip():
            raise InputError(f"{where}: text is empty")
        if not self.topic.strip():
            raise InputError(f"{where}: topic is empty")
        label = self.label.strip().lower()
        if label != NOT_A_QUOTE:
            try:
                label = normalize_label(label)
            except ValueError:
                raise InputError(
                    f"{where}: label {self.label!r}; expected one of {', '.join(USER_LABELS)}"
                ) from None
        created_at = self.created_at
        if created_at is not None:
            created_at = _finite(created_at)
            if created_at is None:
                raise InputError(
                    f"{where}: field 'created_at' must be a number (Unix seconds) or null, "
                    f"found {_json_kind(self.created_at)}"
                )
        return replace(
            self, label=label, created_at=created_at, model_scores=_checked_scores(self.model_scores, where)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_example_row(self) -> dict[str, Any]:
        """A row ``stance evaluate``/``stance train`` read (text, topic, label, context), plus the rest."""
        return {k: v for k, v in self.to_dict().items() if v is not None}


# the fields that hold text or nothing; created_at and model_scores hold numbers
_OPTIONAL_TEXT = ("context", "speaker", "quote", "article_hash", "model_label", "model_checksum")


def _json_kind(value: Any) -> str:
    """What a value is, in JSON's words, for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _check_text(value: Any, name: str, where: str, optional: bool) -> None:
    """Raise :class:`InputError` unless ``value`` is text SQLite can store (or None when optional)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        if value is None:
            raise InputError(f"{where}: {name} is empty")
        expected = "text or null" if optional else "text"
        raise InputError(f"{where}: field {name!r} must be {expected}, found {_json_kind(value)}")
    # JSON may spell half of a surrogate pair ("\ud800"), which no UTF-8 file can hold; emptiness
    # is LabelRecord.checked's to name
    require_text(value, f"{where}: field {name!r}", optional=True)


def _finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not true/false), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        return None
    return number if math.isfinite(number) else None


def _checked_scores(scores: Any, where: str) -> dict[str, float] | None:
    """``model_scores`` as an object of label -> finite float; raises :class:`InputError` otherwise."""
    if scores is None:
        return None
    if not isinstance(scores, dict):
        raise InputError(
            f"{where}: field 'model_scores' must be an object of label: probability or null, "
            f"found {_json_kind(scores)}"
        )
    checked = {}
    for key, value in scores.items():
        number = _finite(value)
        if not isinstance(key, str) or number is None:
            raise InputError(
                f"{where}: field 'model_scores' must map labels to numbers; {key!r} is {_json_kind(value)}"
            )
        _check_text(key, "model_scores", where, optional=False)
        checked[key] = number
    return checked


_COLUMNS = (
    "text", "context", "topic", "label", "speaker", "quote", "article_hash",
    "model_label", "model_scores", "model_checksum", "created_at",
)  # fmt: skip


def _row_to_record(row: sqlite3.Row) -> LabelRecord:
    values = {name: row[name] for name in _COLUMNS}
    values["model_scores"] = json.loads(row["model_scores"]) if row["model_scores"] else None
    return LabelRecord(id=row["id"], **values)


@dataclass(frozen=True)
class LabelStats:
    """Counts for ``stance labels stats``: rows, items, per label, per topic, agreement with the model."""

    rows: int
    items: int
    per_label: dict[str, int]
    per_topic: dict[str, dict[str, int]]
    model_agreement: float | None
    scopes: int


class LabelStore:
    """A SQLite file of labels; safe to share between threads and processes.

    Args:
        path: the database file (created with its folder when missing).
        busy_timeout_s: how long a write waits for another writer's lock.

    Raises:
        LabelStoreError: the file cannot be opened, is not a database, or has a newer schema.
    """

    def __init__(self, path: str | Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode (isolation_level=None): transactions are spelled out below
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise LabelStoreError(f"label database {self.path}: WAL journal unavailable ({mode})")
            # FULL: a commit is fsynced before add() returns, so an acknowledged label survives
            # a power cut as well as a killed process
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise LabelStoreError(f"label database {self.path} cannot be opened: {err}") from None

    @property
    def version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._lock:
            current = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if current > len(MIGRATIONS):
                raise LabelStoreError(
                    f"label database {self.path} has schema version {current}; this code knows up to "
                    f"{len(MIGRATIONS)}. Upgrade quote-stance to read it."
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    # another process may have migrated while this one waited for the lock
                    if int(self._db.execute("PRAGMA user_version").fetchone()[0]) >= version:
                        self._db.execute("COMMIT")
                        continue
                    for statement in MIGRATIONS[version - 1].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {version}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, scope: str, records: Sequence[LabelRecord]) -> list[int]:
        """Store ``records`` under ``scope`` in one transaction; returns their ids once on disk.

        Raises:
            InputError: a record without text or topic, or with an unknown label (nothing is stored).
        """
        checked = [r.checked(f"labels[{i}]") for i, r in enumerate(records)]
        now = time.time()
        rows = [
            (
                scope,
                item_key(r.text, r.topic, r.context, r.article_hash),
                r.text,
                r.context,
                r.topic,
                r.label,
                r.speaker,
                r.quote,
                r.article_hash,
                r.model_label,
                json.dumps(r.model_scores) if r.model_scores is not None else None,
                r.model_checksum,
                r.created_at if r.created_at is not None else now,
            )
            for r in checked
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    self._db.execute(
                        "INSERT INTO labels (scope, item, text, context, topic, label, speaker, quote, "
                        "article_hash, model_label, model_scores, model_checksum, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row,
                    ).lastrowid
                    for row in rows
                ]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [int(i) for i in ids if i is not None]

    def page(self, scope: str, after: int = 0, limit: int = 100) -> tuple[list[LabelRecord], int | None]:
        """Rows of ``scope`` with id > ``after``, oldest first; and the cursor of the next page.

        Returns:
            ``(records, next_after)``; ``next_after`` is None on the last page.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM labels WHERE scope = ? AND id > ? ORDER BY id LIMIT ?",
                (scope, after, limit + 1),
            ).fetchall()
        records = [_row_to_record(r) for r in rows[:limit]]
        more = len(rows) > limit
        return records, (records[-1].id if more and records else None)

    def rows(self, scope: str | None = None) -> Iterator[LabelRecord]:
        """Every row (of one scope, or all), oldest first, read in pages."""
        after = 0
        while True:
            with self._lock:
                query = "SELECT * FROM labels WHERE id > ?" + (" AND scope = ?" if scope else "")
                params: tuple = (after, scope) if scope else (after,)
                batch = self._db.execute(query + " ORDER BY id LIMIT 1000", params).fetchall()
            if not batch:
                return
            for row in batch:
                yield _row_to_record(row)
            after = batch[-1]["id"]

    def latest(self, scope: str | None = None, include_not_quotes: bool = False) -> list[LabelRecord]:
        """The newest label of each item, oldest item first (what export, evaluate and adapt use)."""
        with self._lock:
            query = (
                "SELECT * FROM labels WHERE id IN (SELECT MAX(id) FROM labels"
                + (" WHERE scope = ?" if scope else "")
                + " GROUP BY scope, item) ORDER BY id"
            )
            rows = self._db.execute(query, (scope,) if scope else ()).fetchall()
        records = [_row_to_record(r) for r in rows]
        if not include_not_quotes:
            records = [r for r in records if r.label != NOT_A_QUOTE]
        return records

    def stats(self, scope: str | None = None) -> LabelStats:
        """Counts over the newest label of each item."""
        latest = self.latest(scope, include_not_quotes=True)
        with self._lock:
            where = " WHERE scope = ?" if scope else ""
            params = (scope,) if scope else ()
            total = self._db.execute(f"SELECT COUNT(*) FROM labels{where}", params).fetchone()[0]
            cursor = self._db.execute(f"SELECT COUNT(DISTINCT scope) FROM labels{where}", params)
            scopes = cursor.fetchone()[0]
        per_label = {label: 0 for label in USER_LABELS}
        per_topic: dict[str, dict[str, int]] = {}
        judged = agreed = 0
        for r in latest:
            per_label[r.label] = per_label.get(r.label, 0) + 1
            topic = per_topic.setdefault(r.topic, {label: 0 for label in USER_LABELS})
            topic[r.label] = topic.get(r.label, 0) + 1
            if r.model_label in LABELS and r.label in LABELS:
                judged += 1
                agreed += r.model_label == r.label
        return LabelStats(
            rows=int(total),
            items=len(latest),
            per_label=per_label,
            per_topic=per_topic,
            model_agreement=agreed / judged if judged else None,
            scopes=int(scopes),
        )

    def integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``ok`` for a sound file."""
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def read_records(path: str | Path) -> Iterator[LabelRecord]:
    """Label records from a JSONL file (an export, or any file with text, topic and label).

    Fields other than :class:`LabelRecord`'s (an export's ``id``) are ignored.

    Raises:
        DataError: with ``file:line`` for invalid UTF-8, bad JSON, a missing field, a field of the
            wrong type (see :meth:`LabelRecord.checked`) or an unknown label.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    known = {f for f in LabelRecord.__dataclass_fields__ if f != "id"}
    with open(path, "rb") as handle:
        for line_no, line in decoded_lines(path, handle):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            row = parse_json_object(line, where)
            values = {k: v for k, v in row.items() if k in known}
            for name in ("text", "topic", "label"):
                if values.get(name) is None or (isinstance(values[name], str) and not values[name].strip()):
                    raise DataError(f"{where}: missing or empty field {name!r}")
            try:
                yield LabelRecord(**values).checked(where)
            except InputError as err:
                raise DataError(str(err)) from None


def write_records(records: Iterable[LabelRecord], path: str | Path) -> int:
    """Write records as JSONL atomically (what :func:`~stance.data.examples.iter_file` reads).

    Returns the count.
    """
    from stance.atomic import atomic_file

    n = 0
    with atomic_file(path) as handle:
        for record in records:
            handle.write(json.dumps(record.to_example_row(), ensure_ascii=False) + "\n")
            n += 1
    return n


STORE_SPEC = "labels:"
"""``labels:`` names the default store as a data set; ``labels:PATH`` another database file."""


def is_store_spec(spec: str) -> bool:
    """Whether a data spec names a label store (``labels:`` or ``labels:PATH``), not a file or set."""
    return spec.startswith(STORE_SPEC) and not Path(spec).exists()


def store_examples(spec: str = STORE_SPEC, scope: str | None = None) -> list:
    """The newest label of each item in a store as :class:`stance.data.examples.Example` rows.

    Args:
        spec: ``labels:`` (``STANCE_LABELS_DB``, else ``labels.sqlite3``) or ``labels:PATH``.
        scope: one key's rows (:func:`scope_of`); default every key's.

    Raises:
        DataError: the database does not exist or holds no stance labels.
    """
    from stance.data.examples import Example

    path = Path(spec[len(STORE_SPEC) :]) if spec[len(STORE_SPEC) :] else default_path()
    if not path.is_file():
        raise DataError(f"{spec}: no label database at {path}; label on the page or `stance labels import`")
    with LabelStore(path) as store:
        records = store.latest(scope)
    if not records:
        raise DataError(f"{spec}: the label database {path} holds no stance labels yet")
    return [Example(text=r.text, topic=r.topic, label=r.label, context=r.context) for r in records]


def load_user_examples(spec: str | Path) -> list:
    """User labels from a store spec (``labels:``) or a JSONL/CSV file.

    Files are read with :func:`stance.data.examples.load_examples`.
    """
    from stance.data.examples import load_examples

    spec = str(spec)
    return store_examples(spec) if is_store_spec(spec) else load_examples(spec)
