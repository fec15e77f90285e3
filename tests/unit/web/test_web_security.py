from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tocsin.errors import ConfigError
from tocsin.web.app import CSRF_COOKIE, check_bind, create_app, resolve_token

TOKEN = "s3cret-token"


@pytest.fixture
def locked(instance: Any, location: Any) -> Any:
    with TestClient(create_app(instance, [location], token=TOKEN)) as client:
        yield client


def test_mutations_need_the_token(locked: TestClient) -> None:
    missing = locked.post(
        "/api/v1/sensors/watch/start", headers={"content-type": "application/json"}
    )
    assert missing.status_code == 401 and "is missing" in missing.json()["error"]
    wrong = locked.post("/api/v1/sensors/watch/start", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "does not match" in wrong.json()["error"]
    pushed = locked.post("/api/v1/events", json={"type": "external", "name": "x"})
    assert pushed.status_code == 401
    good = locked.post("/api/v1/sensors/watch/start", headers={"authorization": f"Bearer {TOKEN}"})
    assert good.status_code == 200 and good.json()["status"] == "RUNNING"


def test_reads_need_no_token(locked: TestClient) -> None:
    assert locked.get("/api/v1/sensors").status_code == 200
    assert locked.get("/").status_code == 200


def test_forms_need_login_then_csrf(locked: TestClient) -> None:
    page = locked.get("/sensors/watch")
    assert "Log in to make changes" in page.text
    csrf = locked.cookies[CSRF_COOKIE]
    refused = locked.post("/sensors/watch/start", data={"csrf_token": csrf})
    assert refused.status_code == 401
    bad_login = locked.post("/login", data={"token": "guess"})
    assert bad_login.status_code == 401 and "not this server" in bad_login.text
    assert locked.post("/login", data={"token": TOKEN}, follow_redirects=False).status_code == 303
    done = locked.post("/sensors/watch/start", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303


def test_form_posts_without_csrf_are_rejected(client: TestClient, instance: Any) -> None:
    client.get("/")
    no_field = client.post("/sensors/watch/start", data={})
    assert no_field.status_code == 403 and "CSRF" in no_field.text
    wrong = client.post("/sensors/watch/start", data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    client.cookies.clear()
    no_cookie = client.post("/sensors/watch/start", data={"csrf_token": "forged"})
    assert no_cookie.status_code == 403
    assert instance.ticks.all_instigator_state() == []


def test_resolve_token_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_token(None) is None
    assert resolve_token("abc") == "abc"
    monkeypatch.setenv("TOCSIN_TEST_WEB_TOKEN", "from-env")
    assert resolve_token({"env": "TOCSIN_TEST_WEB_TOKEN"}) == "from-env"
    monkeypatch.delenv("TOCSIN_TEST_WEB_TOKEN")
    with pytest.raises(ConfigError, match="'TOCSIN_TEST_WEB_TOKEN', which is not set"):
        resolve_token({"env": "TOCSIN_TEST_WEB_TOKEN"})
    with pytest.raises(ConfigError, match="must be a string or"):
        resolve_token(42)


def test_refuses_non_loopback_without_token(instance: Any) -> None:
    with pytest.raises(ConfigError, match=r"Refusing to serve the tocsin web UI on '0\.0\.0\.0'"):
        create_app(instance, host="0.0.0.0")
    create_app(instance, host="0.0.0.0", token="t")
    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(host, None)
    with pytest.raises(ConfigError):
        check_bind("example.org", None)


def test_token_from_instance_settings(instance: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance, "settings", {"webserver": {"token": "from-yaml"}})
    with TestClient(create_app(instance)) as client:
        assert client.post("/api/v1/runs", json={}).status_code == 401
