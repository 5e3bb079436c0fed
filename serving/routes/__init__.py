"""One router per resource. A new resource gets a module here and a line in ``ROUTERS``."""

from fastapi import APIRouter

from serving.routes import analyze, labels, model, ops, quotes, stance

ROUTERS: list[APIRouter] = [
    ops.router,
    model.router,
    quotes.router,
    stance.router,
    analyze.router,
    labels.router,
]
