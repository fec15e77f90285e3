from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tocsin.model.run import DagsterRunStatus
from tocsin.storage.base import DaemonHeartbeat
from tocsin.web.service import WAKE_KEY_PREFIX, utcnow

JSON = {"content-type": "application/json"}


def post(client: TestClient, url: str, body: Any = None) -> Any:
    if body is None:
        return client.post(url, headers=JSON)
    return client.post(url, json=body)


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    data = response.json()
    assert set(data) == {"error", "detail"}
    return data["error"]


def test_lists_sensors_and_schedules(client: TestClient) -> None:
    sensors = client.get("/api/v1/sensors").json()["items"]
    assert [s["name"] for s in sensors] == ["broken", "watch"]
    watch = sensors[1]
    assert watch["code_location"] == "loc"
    assert watch["status"] == "STOPPED"
    assert watch["minimum_interval_seconds"] == 10
    assert watch["wake_on"] == ["upload", "raw/orders"]
    assert watch["last_tick"] is None and watch["next_tick"] is None
    schedules = client.get("/api/v1/schedules").json()["items"]
    assert schedules[0]["cron_schedule"] == "30 2 * * *"
    assert schedules[0]["execution_timezone"] == "Europe/Berlin"


def test_get_schedule_lists_next_ticks_in_its_zone(client: TestClient) -> None:
    data = client.get("/api/v1/schedules/nightly").json()
    assert len(data["next_ticks"]) == 10
    assert all("T02:30:00" in t["time"] for t in data["next_ticks"])


def test_unknown_sensor_is_404_with_suggestion(client: TestClient) -> None:
    message = error_of(client.get("/api/v1/sensors/wach"), 404)
    assert "No sensor named 'wach'" in message and "Did you mean 'watch'?" in message


def test_start_and_stop_survive_in_storage(client: TestClient) -> None:
    assert post(client, "/api/v1/sensors/watch/start").json()["status"] == "RUNNING"
    item = client.get("/api/v1/sensors/watch").json()
    assert item["status"] == "RUNNING" and item["next_tick"] is not None
    assert post(client, "/api/v1/sensors/watch/stop").json()["status"] == "STOPPED"
    assert client.get("/api/v1/sensors/watch").json()["status"] == "STOPPED"


def test_preview_stores_nothing(client: TestClient, instance: Any) -> None:
    data = post(client, "/api/v1/sensors/watch/preview").json()
    assert [r["run_key"] for r in data["run_requests"]] == ["k1", "k2"]
    assert data["cursor"] == "seen-1"
    assert data["log_lines"] == ["INFO looking"]
    assert instance.get_runs_count() == 0
    assert client.get("/api/v1/sensors/watch/ticks").json()["items"] == []


def test_preview_with_cursor_and_bad_cursor_type(client: TestClient) -> None:
    data = post(client, "/api/v1/sensors/watch/preview", {"cursor": "skip"}).json()
    assert data["run_requests"] == [] and data["skip_message"] == "nothing new"
    message = error_of(post(client, "/api/v1/sensors/watch/preview", {"cursor": 5}), 422)
    assert "'cursor' must be str, got int 5" in message


def test_tick_now_records_tick_runs_and_duplicates(client: TestClient, instance: Any) -> None:
    first = client.post("/api/v1/sensors/watch/tick", headers=JSON)
    assert first.status_code == 201
    tick = first.json()["tick"]
    assert tick["status"] == "SUCCESS" and len(tick["run_ids"]) == 2
    assert tick["cursor"] == "seen-1"
    runs = instance.get_runs()
    assert {r.status for r in runs} == {DagsterRunStatus.NOT_STARTED}  # left for the daemon
    client.put("/api/v1/sensors/watch/cursor", json={"cursor": None})
    second = post(client, "/api/v1/sensors/watch/tick").json()["tick"]
    assert second["status"] == "SKIPPED" and second["run_ids"] == []
    ticks = client.get("/api/v1/sensors/watch/ticks").json()["items"]
    assert [t["tick_id"] for t in ticks] == [second["tick_id"], tick["tick_id"]]
    one = client.get(f"/api/v1/sensors/watch/ticks/{tick['tick_id']}").json()
    assert one["run_keys"] == ["k1", "k2"]


def test_failing_sensor_tick_keeps_the_traceback(client: TestClient) -> None:
    tick = post(client, "/api/v1/sensors/broken/tick").json()["tick"]
    assert tick["status"] == "FAILURE"
    assert "the bucket is gone" in json.dumps(tick["error"])


def test_tick_of_another_instigator_is_404(client: TestClient) -> None:
    tick = post(client, "/api/v1/sensors/broken/tick").json()["tick"]
    error_of(client.get(f"/api/v1/sensors/watch/ticks/{tick['tick_id']}"), 404)
    error_of(client.get("/api/v1/sensors/watch/ticks/999999"), 404)


def test_schedule_tick_now(client: TestClient, instance: Any) -> None:
    tick = post(client, "/api/v1/schedules/nightly/tick").json()["tick"]
    assert tick["status"] == "SUCCESS"
    assert tick["scheduled_execution_time"] is not None
    run = instance.get_run_by_id(tick["run_ids"][0])
    assert run.tags["dagster/schedule_name"] == "nightly"


def test_set_and_clear_cursor(client: TestClient) -> None:
    assert (
        client.put("/api/v1/sensors/watch/cursor", json={"cursor": "42"}).json()["cursor"] == "42"
    )
    assert client.get("/api/v1/sensors/watch").json()["cursor"] == "42"
    assert client.delete("/api/v1/sensors/watch/cursor").json()["cursor"] is None
    assert client.get("/api/v1/sensors/watch").json()["cursor"] is None


def test_cursor_bad_bodies(client: TestClient) -> None:
    url = "/api/v1/sensors/watch/cursor"
    assert "needs 'cursor'" in error_of(client.put(url, json={}), 422)
    assert "not valid JSON" in error_of(client.put(url, content=b"{nope", headers=JSON), 400)
    assert "JSON object, got list" in error_of(client.put(url, json=[1]), 400)
    assert "needs a JSON object" in error_of(client.put(url, headers=JSON), 400)


def test_api_posts_must_be_json(client: TestClient) -> None:
    response = client.post("/api/v1/sensors/watch/start", content=b"a=b")
    assert "as JSON" in error_of(response, 415)


def test_runs_filters_and_keyset_paging(client: TestClient, instance: Any) -> None:
    made = [
        instance.create_run(job_name="a" if i % 2 else "b", tags={"team": f"t{i % 3}"})
        for i in range(7)
    ]
    instance.update_run_status(made[0].run_id, DagsterRunStatus.SUCCESS)
    page = client.get("/api/v1/runs?limit=3").json()
    assert [r["run_id"] for r in page["items"]] == [r.run_id for r in made[::-1][:3]]
    seen = [r["run_id"] for r in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"/api/v1/runs?limit=3&cursor={page['next_cursor']}").json()
        seen += [r["run_id"] for r in page["items"]]
    assert seen == [r.run_id for r in reversed(made)]
    assert len(client.get("/api/v1/runs?job=a").json()["items"]) == 3
    assert len(client.get("/api/v1/runs?tag=team=t0").json()["items"]) == 3
    success = client.get("/api/v1/runs?status=success").json()["items"]
    assert [r["run_id"] for r in success] == [made[0].run_id]
    future = client.get("/api/v1/runs?created_after=2999-01-01T00:00:00").json()
    assert future["items"] == []
    assert len(client.get("/api/v1/runs?created_before=2999-01-01T00:00:00Z").json()["items"]) == 7


def test_runs_bad_query(client: TestClient) -> None:
    assert "Unknown run status 'DONE'" in error_of(client.get("/api/v1/runs?status=DONE"), 400)
    assert "key=value" in error_of(client.get("/api/v1/runs?tag=team"), 400)
    assert "integer, got 'x'" in error_of(client.get("/api/v1/runs?limit=x"), 400)
    assert "between 1 and 1000" in error_of(client.get("/api/v1/runs?limit=0"), 400)
    assert "ISO 8601" in error_of(client.get("/api/v1/runs?created_after=yesterday"), 400)
    assert "ISO 8601" in error_of(client.get("/api/v1/runs?created_after=nan"), 400)
    assert "not the id of a run" in error_of(client.get("/api/v1/runs?cursor=nope"), 400)


def test_get_run_events_and_cancel(client: TestClient, instance: Any) -> None:
    run = instance.create_run(job_name="hello_job")
    instance.report_engine_event("hello there", run)
    data = client.get(f"/api/v1/runs/{run.run_id}").json()
    assert data["status"] == "NOT_STARTED" and data["storage_id"] >= 1
    events = client.get(f"/api/v1/runs/{run.run_id}/events").json()["items"]
    assert events[0]["message"] == "hello there"
    canceled = post(client, f"/api/v1/runs/{run.run_id}/cancel").json()
    assert canceled["status"] == "CANCELED"
    assert "already CANCELED" in error_of(post(client, f"/api/v1/runs/{run.run_id}/cancel"), 409)
    error_of(client.get("/api/v1/runs/missing"), 404)
    error_of(client.get("/api/v1/runs/missing/events"), 404)


def test_launch_run(client: TestClient, instance: Any) -> None:
    response = post(client, "/api/v1/runs", {"job_name": "hello_job", "tags": {"a": "b"}})
    assert response.status_code == 201
    run = instance.get_run_by_id(response.json()["run_id"])
    assert run.tags["a"] == "b"
    assert "No job named 'helo_job'" in error_of(
        post(client, "/api/v1/runs", {"job_name": "helo_job"}), 404
    )
    assert "needs 'job_name'" in error_of(post(client, "/api/v1/runs", {}), 422)
    assert "Tag values must be strings" in error_of(
        post(client, "/api/v1/runs", {"job_name": "hello_job", "tags": {"a": 1}}), 422
    )


def test_queue_shows_priority_and_holding_limit(client: TestClient, instance: Any) -> None:
    low = instance.create_run(job_name="hello_job", status=DagsterRunStatus.QUEUED)
    high = instance.create_run(
        job_name="hello_job", status=DagsterRunStatus.QUEUED, tags={"dagster/priority": "5"}
    )
    items = client.get("/api/v1/queue").json()["items"]
    assert [i["run_id"] for i in items] == [high.run_id, low.run_id]
    assert items[0]["priority"] == 5 and items[0]["held_by"]


def test_push_materialization_is_an_asset_event(client: TestClient, instance: Any) -> None:
    body = {
        "type": "asset_materialization",
        "asset_key": ["raw", "orders"],
        "partition": "p1",
        "metadata": {"rows": 3},
        "idempotency_key": "up-1",
    }
    first = post(client, "/api/v1/events", body)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    again = post(client, "/api/v1/events", body)
    assert again.status_code == 200
    assert again.json() == {
        "storage_id": first.json()["storage_id"],
        "duplicate": True,
        "woken": [],
    }
    from tocsin.model.asset_key import AssetKey

    latest = instance.get_latest_materialization_event(AssetKey(["raw", "orders"]))
    assert latest.asset_materialization.partition == "p1"
    assets = client.get("/api/v1/assets").json()["items"]
    assert assets[0]["asset_key"] == "raw/orders"
    page = client.get("/api/v1/assets/raw/orders/materializations").json()
    assert page["items"][0]["metadata"] == {"rows": 3}
    assert "storage id" in error_of(
        client.get("/api/v1/assets/raw/orders/materializations?cursor=x"), 400
    )


def test_push_wakes_sensors_that_wait_for_it(app: Any, client: TestClient, instance: Any) -> None:
    heard: list[list[str]] = []
    app.state.subscribe_wake(heard.append)
    body = {"type": "external", "name": "upload", "payload": {"path": "/x.csv"}}
    data = post(client, "/api/v1/events", body).json()
    assert data["woken"] == ["loc:sensor:watch"]
    assert heard == [["upload"]]
    assert WAKE_KEY_PREFIX + "loc:sensor:watch" in instance.misc.get_kv(
        [WAKE_KEY_PREFIX + "loc:sensor:watch"]
    )
    stored = client.get(f"/api/v1/events/{data['storage_id']}").json()
    assert stored["external"] == {"name": "upload", "payload": {"path": "/x.csv"}}
    pushed = post(
        client, "/api/v1/events", {"type": "asset_materialization", "asset_key": "raw/orders"}
    )
    assert pushed.json()["woken"] == ["loc:sensor:watch"]
    error_of(client.get("/api/v1/events/424242"), 404)


def test_push_bad_input(client: TestClient) -> None:
    cases = [
        ({"type": "nope"}, "type must be 'asset_materialization' or 'external'"),
        ({}, "got None"),
        ({"type": "asset_materialization"}, "asset_key must be a non-empty string"),
        ({"type": "asset_materialization", "asset_key": ["a", 1]}, "got ['a', 1]"),
        (
            {"type": "asset_materialization", "asset_key": "a", "partition": 3},
            "partition must be a str",
        ),
        (
            {"type": "asset_materialization", "asset_key": "a", "metadata": []},
            "metadata must be a dict",
        ),
        ({"type": "external"}, "non-empty string 'name'"),
        ({"type": "external", "name": "x", "payload": "p"}, "payload must be a dict"),
        ({"type": "external", "name": "x", "idempotency_key": ""}, "1 to 400 characters"),
        ({"type": "external", "name": "x", "idempotency_key": 4}, "idempotency_key must be a str"),
    ]
    for body, expected in cases:
        assert expected in error_of(post(client, "/api/v1/events", body), 422), body


def test_heartbeats(client: TestClient, instance: Any) -> None:
    instance.add_daemon_heartbeat(DaemonHeartbeat(timestamp=utcnow(), daemon_type="SENSOR"))
    items = client.get("/api/v1/daemon/heartbeats").json()["items"]
    assert items[0]["daemon_type"] == "SENSOR" and items[0]["age_seconds"] < 60


def test_openapi_lists_every_route(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/{kind}/{name}/cursor" in doc["paths"]
    assert set(doc["paths"]["/api/v1/{kind}/{name}/cursor"]) == {"put", "delete"}
    assert doc["paths"]["/api/v1/events"]["post"]["security"] == [{"bearer": []}]


def test_storage_only_instigator_cannot_be_previewed(client: TestClient, instance: Any) -> None:
    from tocsin.web.app import create_app

    post(client, "/api/v1/sensors/watch/start")
    with TestClient(create_app(instance)) as bare:
        assert bare.get("/api/v1/sensors").json()["items"][0]["loaded"] is False
        assert "known only from storage" in error_of(
            post(bare, "/api/v1/sensors/watch/preview"), 409
        )
