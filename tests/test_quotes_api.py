"""The quote kinds and fields on the HTTP API: the API's quote type pinned to the core's."""

import dataclasses
import typing

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.schemas import QuoteOut
from serving.settings import ServiceSettings
from stance.quotes import KINDS, Quote

ARTICLE = (
    "Foreign Minister Sergei Lavrov met Iran's envoy.\n\n"
    "Lavrov said the accord could still be saved.\n\n"
    "“We will revive the accord,” Lavrov said."
)


def test_api_quote_fields_are_the_core_quote_fields():
    assert list(QuoteOut.model_fields) == [f.name for f in dataclasses.fields(Quote)]
    assert set(typing.get_args(QuoteOut.model_fields["kind"].annotation)) == set(KINDS)


@pytest.fixture()
def client(tiny_model):
    with TestClient(create_app(ServiceSettings(model_path=str(tiny_model)))) as c:
        yield c


def test_quotes_endpoint_kinds(client):
    default = client.post("/v1/quotes", json={"text": ARTICLE}).json()["quotes"]
    assert [q["kind"] for q in default] == ["direct"]
    assert default[0]["rule"] == "x_said"
    pytest.importorskip("spacy")
    both = client.post("/v1/quotes", json={"text": ARTICLE, "kinds": ["direct", "indirect"]}).json()
    assert [q["kind"] for q in both["quotes"]] == ["indirect", "direct"]
    bad = client.post("/v1/quotes", json={"text": ARTICLE, "kinds": ["hearsay"]})
    assert bad.status_code == 422


def test_analyze_labels_every_kind_and_counts_them(client):
    pytest.importorskip("spacy")
    body = client.post("/v1/analyze", json={"text": ARTICLE, "topics": ["the accord"]}).json()
    assert sorted(q["kind"] for q in body["quotes"]) == ["direct", "indirect"]
    lavrov = body["speakers"][0]
    assert lavrov["quotes"] == 2 and lavrov["kinds"] == {"direct": 1, "mixed": 0, "indirect": 1}
    direct_only = client.post(
        "/v1/analyze", json={"text": ARTICLE, "topics": ["the accord"], "kinds": ["direct"]}
    ).json()
    assert [q["kind"] for q in direct_only["quotes"]] == ["direct"]
