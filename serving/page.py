"""The reading page at ``GET /``: static HTML, CSS and JavaScript that call ``/v1/analyze``.

No build step and nothing from outside this process: the files under ``serving/static/`` are
served as they are, and a Content-Security-Policy keeps the page from loading or sending
anything anywhere but this server. ``GET /page/config`` tells the page the server's limits and
whether it needs an API key, so that it can say so before a request is refused.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from serving.settings import ServiceSettings

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The page may talk to this server only; blob: lets the download buttons hand over a file.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # the page is small and changes with the server; always revalidate
    "Cache-Control": "no-cache",
}


def page_router(settings: ServiceSettings) -> APIRouter:
    """The page's routes: ``/`` (the page), ``/static/{name}`` and ``/page/config``.

    Args:
        settings: the service settings; the page reads its limits and whether a key is needed.

    Returns:
        An ``APIRouter`` to include in the app (the routes stay out of the OpenAPI schema).

    Example:
        >>> app.include_router(page_router(settings))
    """
    router = APIRouter(include_in_schema=False)
    # a fixed list, read once: no path from the URL ever reaches the file system
    files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file() and p.name != "index.html"}

    @router.get("/")
    async def page() -> FileResponse:
        """The reading page."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    @router.get("/static/{name}")
    async def static(name: str) -> FileResponse:
        """The page's stylesheet and script."""
        if name not in files:
            raise HTTPException(404, f"no static file {name!r}")
        return FileResponse(files[name], headers={"Cache-Control": "no-cache"})

    @router.get("/page/config")
    async def config() -> dict:
        """The limits the page checks before it sends a request, and whether a key is needed."""
        return {
            "max_topics": settings.max_topics,
            "max_text_chars": settings.max_text_chars,
            "api_key_required": bool(settings.api_key),
        }

    return router
