"""The codebase's shape, pinned: the core imports no outer layer, API schemas match core types,
configs ship with the package, and each error class has one exit code and one HTTP status."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

from serving import schemas
from stance.analysis import SpeakerSummary, TopicStance
from stance.model.classifier import StancePrediction
from stance.quotes import Quote

ROOT = Path(__file__).resolve().parents[1]
OUTER = {"training", "serving", "stance_cli", "fastapi", "typer", "uvicorn", "starlette"}


def test_the_core_imports_no_outer_layer():
    offenders = []
    for path in sorted((ROOT / "stance").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in OUTER]
    assert offenders == []


def _pairs(core: type, api: type) -> list[tuple[str, object, object]]:
    hints = typing.get_type_hints(core)
    return [(f.name, hints[f.name], api.model_fields[f.name].annotation) for f in dataclasses.fields(core)]


@pytest.mark.parametrize(
    ("core", "api"),
    [
        (Quote, schemas.QuoteOut),
        (StancePrediction, schemas.StanceResult),
        (TopicStance, schemas.TopicStanceOut),
        (SpeakerSummary, schemas.SpeakerOut),
    ],
)
def test_api_schemas_have_the_core_fields_and_types(core, api):
    core_names = [f.name for f in dataclasses.fields(core)]
    assert sorted(core_names) == sorted(api.model_fields), f"{core.__name__} and {api.__name__} differ"
    for name, core_type, api_type in _pairs(core, api):
        if typing.get_origin(core_type) is dict and hasattr(api_type, "model_fields"):
            # score maps are objects with one float per label in the API
            assert set(api_type.model_fields) == {"favor", "against", "none"}, name
        else:
            assert core_type == api_type, f"{core.__name__}.{name}: {core_type} != {api_type}"


def test_analyzed_quotes_are_quotes_with_stances():
    assert set(schemas.AnalyzedQuote.model_fields) == set(schemas.QuoteOut.model_fields) | {"stances"}


def test_configs_ship_with_the_package_and_are_found_by_name(tmp_path, monkeypatch):
    from stance.config import find_config, load_config, packaged_configs

    assert {"default.yaml", "quick.yaml", "smoke.yaml"} <= set(packaged_configs())
    monkeypatch.chdir(tmp_path)  # no configs/ folder here, as with an installed wheel
    assert find_config("configs/quick.yaml").name == "quick.yaml"
    assert load_config("quick").model.max_length == 96
    from stance.errors import ConfigError

    with pytest.raises(ConfigError, match="packaged configs: .*quick.yaml"):
        find_config("nope.yaml")


def _exceptions_defined_under_stance() -> list[type]:
    """Every exception class defined in any module under stance/, subpackages included."""
    import importlib

    found = []
    for path in sorted((ROOT / "stance").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseException)
            and value.__module__ == module.__name__
        ]
    return found


def test_every_core_error_has_an_exit_code_and_an_http_status():
    import stance.errors as errors
    from serving.errors import HTTP_STATUS, status_for
    from stance_cli.errors import EXIT_CODES, exit_code_for

    classes = _exceptions_defined_under_stance()
    assert len(classes) >= 15
    public = [c for c in classes if not c.__name__.startswith("_")]
    outside = [c.__qualname__ for c in public if not issubclass(c, errors.StanceError)]
    assert outside == [], "every public error under stance/ joins the hierarchy in stance/errors.py"
    for cls in classes:
        if issubclass(cls, errors.StanceError):
            assert any(base in EXIT_CODES for base in cls.__mro__), cls
            assert any(base in HTTP_STATUS for base in cls.__mro__), cls
    assert {"CorpusError", "CorpusInputError", "ParserUnavailable"} <= {c.__name__ for c in classes}
    assert exit_code_for(errors.CorpusInputError("x")) == 2
    assert exit_code_for(errors.ParserUnavailable("x")) == 3
    assert status_for(errors.ParserUnavailable("x")) == (503, "parser_unavailable")
    assert exit_code_for(errors.DataError("x")) == 2 and exit_code_for(errors.ModelNotFoundError("x")) == 3
    assert status_for(errors.InputTooLargeError("x")) == (413, "too_large")
    assert status_for(errors.CapabilityUnavailableError("x")) == (503, "stance_unavailable")


def test_models_built_from_core_types_answer_in_their_order_with_their_defaults():
    """`model_of` keeps the JSON the hand-written models gave: key order, required fields, defaults."""
    from pydantic import ValidationError

    from serving.routes.labels import LabelOut

    assert list(schemas.QuoteOut.model_fields) == [f.name for f in dataclasses.fields(Quote)]
    assert list(LabelOut.model_fields)[:3] == ["id", "text", "topic"]
    assert LabelOut.model_fields["id"].annotation is int and LabelOut.model_fields["created_at"].is_required()
    row = LabelOut(id=1, text="We will not sign.", topic="the deal", label="against", created_at=1.5)
    assert row.model_dump(exclude_none=True) == {
        "id": 1, "text": "We will not sign.", "topic": "the deal", "label": "against", "created_at": 1.5,
    }  # fmt: skip
    with pytest.raises(ValidationError, match="extra"):
        LabelOut(id=1, text="x", topic="t", label="none", created_at=1.0, surprise=True)


def test_stored_labels_are_answered_with_the_store_rows_fields():
    """`GET /v1/labels` rows carry exactly the fields of the store's rows (ids and times filled in)."""
    from serving.routes.labels import LabelOut
    from stance.data.labelstore import LabelRecord

    assert sorted(f.name for f in dataclasses.fields(LabelRecord)) == sorted(LabelOut.model_fields)
