"""Text that cannot be stored (NUL characters, lone surrogates) is refused with a 400 that says
where it was, from a JSON body, a query string, a path or a form, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tocsin.web.text import bad_params, bad_text

JSON = {"content-type": "application/json"}


def send(client: TestClient, method: str, url: str, raw_json: str) -> Any:
    return client.request(method, url, content=raw_json.encode(), headers=JSON)


@pytest.mark.parametrize(
    ("method", "url", "raw", "where"),
    [
        ("POST", "/api/v1/events", '{"type": "external", "name": "x\\u0000"}', "['name']"),
        ("POST", "/api/v1/events", '{"type": "external", "name": "\\ud800"}', "['name']"),
        (
            "POST",
            "/api/v1/events",
            '{"type": "external", "name": "x", "idempotency_key": "\\udfff"}',
            "['idempotency_key']",
        ),
        (
            "POST",
            "/api/v1/events",
            '{"type": "asset_materialization", "asset_key": ["a", "\\ud800"]}',
            "['asset_key'][1]",
        ),
        ("PUT", "/api/v1/sensors/watch/cursor", '{"cursor": "\\ud800"}', "['cursor']"),
        ("POST", "/api/v1/runs", '{"job_name": "hello_job", "tags": {"t": "\\u0000"}}', "['t']"),
        ("POST", "/api/v1/runs", '{"job_name": "hello_job", "run_config": {"\\ud800": 1}}', "key"),
    ],
)
def test_json_bodies_with_unstorable_text_are_refused(
    client: TestClient, instance: Any, method: str, url: str, raw: str, where: str
) -> None:
    events_before = instance.events.get_max_storage_id()
    response = send(client, method, url, raw)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert where in error and "send text without it" in error
    assert ("NUL character" in error) != ("lone surrogate" in error)
    assert instance.get_runs_count() == 0
    assert instance.events.get_max_storage_id() == events_before
    assert all(state.cursor is None for state in instance.ticks.all_instigator_state())
    # The server still answers every list afterwards.
    assert client.get("/api/v1/runs").status_code == 200
    assert client.get("/api/v1/sensors/watch").status_code == 200


def test_query_strings_and_paths_with_nul_are_refused(client: TestClient) -> None:
    response = client.get("/api/v1/runs?job_name=a%00b")
    assert response.status_code == 400
    assert "Parameter 'job_name' in the query string holds a NUL" in response.json()["error"]
    response = client.get("/api/v1/runs/a%00b")
    assert (
        response.status_code == 400
        and "Parameter 'path' in the URL holds a NUL" in response.json()["error"]
    )
    page = client.get("/runs?job_name=%00")
    assert page.status_code == 400 and "NUL character" in page.text


def test_a_form_with_nul_is_refused_and_changes_nothing(client: TestClient, instance: Any) -> None:
    client.get("/")
    fields = {"csrf_token": client.cookies["tocsin_csrf"], "cursor": "a\x00b"}
    response = client.post("/sensors/watch/cursor", data=fields, follow_redirects=False)
    assert response.status_code == 400
    assert "Parameter &#x27;cursor&#x27; in the form holds a NUL character" in response.text
    assert all(state.cursor is None for state in instance.ticks.all_instigator_state())


def test_bad_text_walks_keys_values_and_lists() -> None:
    assert bad_text({"a": [1, {"b": "ok"}], "c": None}) is None
    assert bad_text({"a": [1, {"b": "x\x00"}]}) == (
        "the body['a'][1]['b'] holds a NUL character (\\u0000)"
    )
    assert bad_text({"a": {"\ud800": 1}}) == (
        "a key in the body['a'] holds a lone surrogate (\\ud800), which is not Unicode text"
    )
    assert bad_params([("a", "ok"), ("b\x00", "")], "the form") == (
        "a parameter name in the form holds a NUL character (\\u0000)"
    )
