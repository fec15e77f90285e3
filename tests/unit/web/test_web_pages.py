from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from tocsin.model.asset_key import AssetKey
from tocsin.model.run import DagsterRunStatus
from tocsin.web.service import SCHEDULE, Service

JSON = {"content-type": "application/json"}


def form(client: TestClient, url: str, **fields: str) -> Any:
    client.get("/")
    fields["csrf_token"] = client.cookies["tocsin_csrf"]
    return client.post(url, data=fields, follow_redirects=False)


def test_every_page_renders(client: TestClient, instance: Any) -> None:
    run = instance.create_run(job_name="hello_job")
    client.post("/api/v1/events", json={"type": "asset_materialization", "asset_key": "a/b"})
    for url in [
        "/",
        "/?tab=schedules",
        "/sensors/watch",
        "/schedules/nightly",
        "/runs",
        f"/runs/{run.run_id}",
        "/queue",
        "/assets",
        "/assets/a/b",
        "/daemon",
        "/login",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<main>" in response.text


def test_overview_toggles_and_last_tick(client: TestClient) -> None:
    tick = client.post("/api/v1/sensors/watch/tick", headers=JSON).json()["tick"]
    page = client.get("/").text
    assert "Stopped ▶" in page and "SUCCESS" in page
    assert f'href="/runs/{tick["run_ids"][-1]}"' in page
    assert (
        form(client, "/sensors/watch/start", next="/?tab=sensors").headers["location"]
        == "/?tab=sensors"
    )
    assert "Running ■" in client.get("/").text


def test_sensor_page_shows_timeline_and_tick_details(client: TestClient) -> None:
    client.post("/api/v1/sensors/watch/tick", headers=JSON)
    client.post("/api/v1/sensors/watch/tick", headers=JSON)
    client.post("/api/v1/sensors/broken/tick", headers=JSON)
    page = client.get("/sensors/watch").text
    assert page.count("<rect") == 2 and 'class="ok"' in page and 'class="skip"' in page
    assert "INFO looking" in page and "seen-1" in page
    broken = client.get("/sensors/broken").text
    assert "the bucket is gone" in broken and 'class="bad"' in broken


def test_sensor_page_forms(client: TestClient, instance: Any) -> None:
    assert form(client, "/sensors/watch/cursor", cursor="abc").status_code == 303
    assert "abc" in client.get("/sensors/watch").text
    form(client, "/sensors/watch/clear-cursor")
    assert instance.ticks.all_instigator_state()[0].cursor is None
    preview = form(client, "/sensors/watch/preview", cursor="")
    assert (
        preview.status_code == 200 and "nothing was stored" in preview.text and "k2" in preview.text
    )
    assert form(client, "/sensors/watch/tick").status_code == 303
    assert instance.get_runs_count() == 2
    assert form(client, "/sensors/watch/explode").status_code == 404


def test_schedule_next_ticks_mark_dst(instance: Any, location: Any) -> None:
    service = Service(instance, [location])
    item = service.instigator(SCHEDULE, "nightly")
    now = datetime(2024, 3, 28, 12, tzinfo=UTC)
    ticks = service.next_ticks(item, now, 5)
    marked = [t["time"].date().isoformat() for t in ticks if t["dst_change"]]
    assert marked == ["2024-03-31"]
    assert ticks[-1]["offset"] == "+02:00"


def test_runs_page_filters_and_pages(client: TestClient, instance: Any) -> None:
    runs = [instance.create_run(job_name="hello_job", tags={"n": str(i)}) for i in range(5)]
    instance.update_run_status(runs[1].run_id, DagsterRunStatus.FAILURE)
    page = client.get("/runs?limit=2")
    assert runs[4].run_id[:8] in page.text and 'rel="next"' in page.text
    failed = client.get("/runs?status=FAILURE").text
    assert runs[1].run_id[:8] in failed and runs[0].run_id[:8] not in failed
    assert client.get("/runs?status=BAD").status_code == 400


def test_run_page_cancel(client: TestClient, instance: Any) -> None:
    run = instance.create_run(job_name="hello_job", status=DagsterRunStatus.QUEUED)
    assert "Cancel" in client.get(f"/runs/{run.run_id}").text
    assert form(client, f"/runs/{run.run_id}/cancel").status_code == 303
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.CANCELED
    assert client.get("/runs/nope").status_code == 404


def test_asset_page_lists_materializations(client: TestClient, instance: Any) -> None:
    for rows in (1, 2):
        client.post(
            "/api/v1/events",
            json={
                "type": "asset_materialization",
                "asset_key": ["x", "y"],
                "metadata": {"rows": rows},
            },
        )
    page = client.get("/assets/x/y").text
    assert page.count("<rect") == 2 and "rows" in page
    assert instance.get_latest_materialization_event(AssetKey(["x", "y"])) is not None


def test_unknown_page_is_404(client: TestClient) -> None:
    assert client.get("/sensors/nope").status_code == 404
    assert client.get("/api/v1/nothing").json()["error"]


def test_a_paused_sensor_page_says_why_and_start_resumes_it(
    client: TestClient, instance: Any
) -> None:
    from tocsin.daemon.pause import pause_note, paused

    client.post("/api/v1/sensors/broken/tick", headers=JSON)
    (state,) = instance.ticks.all_instigator_state()
    note = pause_note(state, 3, "ticks")
    instance.ticks.add_instigator_state(paused(state, note, datetime.now(UTC)))
    page = client.get("/sensors/broken").text
    assert 'id="paused-note"' in page and "Paused after 3 consecutive failed ticks" in page
    assert form(client, "/sensors/broken/start").status_code == 303
    assert 'id="paused-note"' not in client.get("/sensors/broken").text
