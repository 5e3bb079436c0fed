"""``/v1/labels``: the user's corrections of stance labels, kept in SQLite and paged back.

Each request's rows are scoped to the API key that sent them (the store keeps its sha256, never
the key; ``open`` when the service runs without a key), and a key reads only its own rows.
``POST`` answers 201 only after its rows are committed and fsynced (:mod:`stance.data.labelstore`),
so a label the client was told about survives a crash of the server.

The request and response models live here, beside the only routes that use them;
``tests/test_labels_api.py`` pins :class:`LabelIn` to the core :class:`LabelRecord`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from serving.deps import ServiceDep, check_context, check_text, within_budget
from serving.parsing import ParsedJsonRoute
from serving.schemas import Strict, model_of
from stance.analysis import quote_contexts, quote_reading
from stance.data.labelstore import OPEN_SCOPE, LabelRecord, LabelStore, scope_of
from stance.errors import InputError, InputTooLargeError
from stance.model.folder import recorded_weights_sha256
from stance.quotes import Kind, Quote

router = APIRouter(prefix="/v1", tags=["labels"], route_class=ParsedJsonRoute)

UserLabel = Literal["favor", "against", "none", "not_a_quote"]
ModelLabel = Literal["favor", "against", "none", "uncertain"]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# at most 1,000 rows a page, and a page ends early past MAX_PAGE_CHARS of text (rows imported from
# files may hold long contexts): what one request holds in memory and renders is bounded either way
MAX_PAGE = 1000
MAX_PAGE_CHARS = 2_000_000


class ModelScores(Strict):
    favor: float = Field(ge=0, le=1)
    against: float = Field(ge=0, le=1)
    none: float = Field(ge=0, le=1)


class QuoteRef(Strict):
    """A quote as ``/v1/analyze`` returned it (offsets in code points of ``article``)."""

    text: str = Field(min_length=1, max_length=100_000)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    kind: Kind
    paragraph: int = Field(ge=0)
    sentence_start: int = Field(ge=0)
    sentence_end: int = Field(ge=0)


class LabelIn(Strict):
    text: str | None = Field(
        default=None, min_length=1, max_length=10_000, description="what the model read; or give span"
    )
    topic: str = Field(min_length=1, max_length=500)
    label: UserLabel
    context: str | None = Field(default=None, max_length=100_000)
    speaker: str | None = Field(default=None, max_length=500)
    quote: str | None = Field(default=None, max_length=10_000, description="the quote's own words")
    article_hash: Sha256 | None = Field(default=None, description="sha256 of the article text (hex)")
    model_label: ModelLabel | None = None
    model_scores: ModelScores | None = None
    model_checksum: Sha256 | None = Field(default=None, description="default: the served model's")
    span: QuoteRef | None = Field(
        default=None,
        description="the quote in `article`: the server derives text, context, quote and article_hash "
        "exactly as /v1/analyze fed the model",
    )


class LabelsRequest(Strict):
    labels: list[LabelIn] = Field(min_length=1, max_length=10_000)
    article: str | None = Field(
        default=None, max_length=1_000_000, description="the article the spans point into (not stored)"
    )


class LabelsStored(Strict):
    ids: list[int]
    stored: int


# the store's row as it is (built from LabelRecord, id first); a type checker cannot see its fields
LabelOut = model_of(
    LabelRecord,
    "LabelOut",
    "A stored row; rows imported from files may hold any hash, so nothing here is a pattern.",
    first=("id",),
    required={"id": int, "created_at": float},
)


class LabelsPage(Strict):
    labels: list[LabelOut]  # type: ignore[valid-type]
    next_after: int | None = Field(description="pass as ?after= for the next page; null on the last")


_open_lock = threading.Lock()


def get_store(request: Request, service: ServiceDep) -> LabelStore:
    """The app's label store, opened (and migrated) on first use."""
    state = request.app.state
    with _open_lock:
        store = getattr(state, "label_store", None)
        if store is None:
            store = state.label_store = LabelStore(service.settings.labels_db)
    return store


StoreDep = Annotated[LabelStore, Depends(get_store)]


async def request_scope(request: Request, service: ServiceDep) -> str:
    """The scope of this request: the sha256 of the key it was let in with, or ``open``."""
    key = service.settings.key()
    if key is None:
        return OPEN_SCOPE
    auth = request.headers.get("authorization", "")
    given = auth[7:] if auth[:7].lower() == "bearer " else request.headers.get("x-api-key", "")
    # the middleware already refused any other key; checked again so a scope is never guessed
    if not secrets.compare_digest(given.strip().encode(), key.encode()):
        from serving.errors import ApiError

        raise ApiError(401, "unauthorized", "missing or wrong API key")
    return scope_of(key)


ScopeDep = Annotated[str, Depends(request_scope)]


def _served_checksum(request: Request, service: ServiceDep) -> str | None:
    state = request.app.state
    if not hasattr(state, "label_model_checksum"):
        state.label_model_checksum = recorded_weights_sha256(service.settings.model_path, compute=False)
    return state.label_model_checksum


def _span_quote(article: str | None, span: QuoteRef, where: str) -> Quote:
    """The quote a span points to in ``article``, checked to lie inside it."""
    if article is None:
        raise InputError(f"{where}.span: send the article the span points into")
    n = len(article)
    if not (span.start <= span.end <= n and span.sentence_start <= span.sentence_end <= n):
        raise InputError(f"{where}.span: offsets outside the article ({n} characters)")
    return Quote(
        text=span.text,
        start=span.start,
        end=span.end,
        speaker=None,
        speaker_mention=None,
        speaker_start=None,
        speaker_end=None,
        cue=None,
        kind=span.kind,
        paragraph=span.paragraph,
        group=0,
        rule=None,
        sentence_start=span.sentence_start,
        sentence_end=span.sentence_end,
    )


def _from_spans(article: str | None, labels: list[LabelIn]) -> dict[int, dict[str, str]]:
    """Reading, context and words of each label's span (by label index), derived as the analysis
    derived them for the model; the article is split into paragraphs once for all of them."""
    spans = {i: _span_quote(article, item.span, f"labels[{i}]") for i, item in enumerate(labels) if item.span}
    if not spans or article is None:  # _span_quote refused a span without an article
        return {}
    contexts = quote_contexts(article, list(spans.values()))
    return {
        i: {"text": quote_reading(article, quote), "context": context, "quote": quote.text}
        for (i, quote), context in zip(spans.items(), contexts, strict=True)
    }


def _records(
    body: LabelsRequest, served: str | None, max_text_chars: int, max_context_chars: int
) -> list[LabelRecord]:
    """The request's labels as records, each span's fields derived from the article.

    A reading is held to ``max_text_chars`` and a context sent with it to ``max_context_chars``
    (``max_quote_chars`` and ``max_context_chars``, as ``/v1/stance`` holds its items): a span's
    sentence offsets may cover the whole article, and 256 of them would otherwise store 256 copies
    of it from one request.
    """
    article_hash = hashlib.sha256(body.article.encode("utf-8")).hexdigest() if body.article else None
    derived_by_label = _from_spans(body.article, body.labels)
    records = []
    for i, item in enumerate(body.labels):
        derived = derived_by_label.get(i, {})
        text = item.text or derived.get("text")
        if not text:
            raise InputError(f"labels[{i}]: give text (what the model read) or span with article")
        check_text(text, max_text_chars, f"labels[{i}].text" if item.text else f"labels[{i}].span's reading")
        check_context(item.context, max_context_chars, f"labels[{i}].context")
        records.append(
            LabelRecord(
                text=text,
                topic=item.topic,
                label=item.label,
                context=item.context if item.context is not None else derived.get("context"),
                speaker=item.speaker,
                quote=item.quote or derived.get("quote"),
                article_hash=item.article_hash or (article_hash if item.span else None),
                model_label=item.model_label,
                model_scores=item.model_scores.model_dump() if item.model_scores else None,
                model_checksum=item.model_checksum or served,
            )
        )
    return records


@router.post("/labels", status_code=201, response_model=LabelsStored)
async def add_labels(
    body: LabelsRequest, request: Request, service: ServiceDep, store: StoreDep, scope: ScopeDep
) -> dict:
    """Store corrected labels; 201 once they are on disk, with their ids in request order.

    The records are derived on a worker thread within the request's time budget (503 ``timeout``
    past it, nothing stored). The write that follows is outside the budget: a commit cannot be
    stopped halfway, and a 503 for rows already stored would invite their retry as duplicates.
    """
    settings = service.settings
    if len(body.labels) > settings.max_items:
        raise InputTooLargeError(f"{len(body.labels)} labels; limit {settings.max_items} per request")
    if body.article is not None and len(body.article) > settings.max_text_chars:
        raise InputTooLargeError(
            f"article has {len(body.article)} characters; limit {settings.max_text_chars}"
        )
    limits = settings.max_quote_chars, settings.max_context_chars
    records = await within_budget(
        request,
        run_in_threadpool(lambda: _records(body, _served_checksum(request, service), *limits)),
        settings.request_timeout_s,
    )
    ids = await run_in_threadpool(store.add, scope, records)
    return {"ids": ids, "stored": len(ids)}


@router.get("/labels", response_model=LabelsPage, responses={200: {"content": {"application/x-ndjson": {}}}})
def list_labels(
    store: StoreDep,
    scope: ScopeDep,
    after: Annotated[int, Query(ge=0, description="the id after which the page starts")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    format: Annotated[Literal["json", "jsonl"], Query(description="jsonl: one label per line")] = "json",
) -> Response | dict:
    """This key's labels, oldest first, a page at a time (``after`` is the last id you have).

    As JSONL the next cursor is in the ``X-Next-After`` header (absent on the last page).
    """
    records, next_after = store.page(scope, after=after, limit=limit)
    rows: list[dict] = []
    chars = 0
    for record in records:
        row = {k: v for k, v in record.to_dict().items() if v is not None}
        chars += sum(len(v) for v in row.values() if isinstance(v, str))
        if rows and chars > MAX_PAGE_CHARS:
            next_after = rows[-1]["id"]  # the page ends here; the next one starts at this row
            break
        rows.append(row)
    if format == "jsonl":
        headers = {"X-Next-After": str(next_after)} if next_after is not None else {}
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return Response(text, media_type="application/x-ndjson", headers=headers)
    return {"labels": rows, "next_after": next_after}
