"""The web UI in headless Chromium against ``tocsin dev`` on the quickstart: the overview, a
sensor stopped and started with its toggle, a new tick on a sensor's timeline, and a run made
from a dropped file whose page shows the step's captured output. Each page is screenshotted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SENSOR_URL = "/sensors/inbox_sensor?location=defs"
Dev = Any  # conftest.Dev: url, inbox, output()


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def shoot(page: Any, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def api(page: Any, dev: Dev, path: str) -> Any:
    response = page.request.get(dev.url + path)
    assert response.ok, response.text()
    return json.loads(response.text())


def row(page: Any, name: str) -> Any:
    return page.locator(f'tr[data-name="{name}"]')


def tick_ids(page: Any) -> list[int]:
    """The tick ids the timeline draws, as the browser sees them."""
    return page.locator("#timeline rect[data-tick-id]").evaluate_all(
        "bars => bars.map(bar => Number(bar.dataset.tickId))"
    )


def test_overview_lists_the_quickstart_sensors_and_schedules(
    page: Any, dev: Dev, artifacts: Path
) -> None:
    page.goto(dev.url + "/")
    assert page.title() == "Overview · tocsin"
    names = page.locator("tr[data-kind=sensor]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )
    assert sorted(names) == ["alert_on_failure", "inbox_sensor", "report_ready"]
    assert row(page, "inbox_sensor").get_attribute("data-running") == "yes"
    assert row(page, "report_ready").get_attribute("data-running") == "no"
    shoot(page, artifacts, "overview-sensors")
    page.get_by_role("link", name="Schedules", exact=True).click()
    page.wait_for_url("**/?tab=schedules")
    names = page.locator("tr[data-kind=schedule]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )
    assert sorted(names) == ["daily_report_job_schedule", "morning_schedule"]
    assert "Europe/Amsterdam" in row(page, "morning_schedule").inner_text()
    shoot(page, artifacts, "overview-schedules")


def test_a_sensor_is_stopped_and_started_with_its_toggle(
    page: Any, dev: Dev, artifacts: Path
) -> None:
    page.goto(dev.url + "/")
    toggle = row(page, "inbox_sensor").locator("button.toggle")
    assert toggle.inner_text() == "Running ■"
    try:
        toggle.click()
        page.wait_for_selector('tr[data-name="inbox_sensor"][data-running="no"]')
        assert row(page, "inbox_sensor").locator("button.toggle").inner_text() == "Stopped ▶"
        assert api(page, dev, "/api/v1/sensors/inbox_sensor")["status"] == "STOPPED"
        shoot(page, artifacts, "overview-sensor-stopped")
        row(page, "inbox_sensor").locator("button.toggle").click()
        page.wait_for_selector('tr[data-name="inbox_sensor"][data-running="yes"]')
        assert row(page, "inbox_sensor").locator("button.toggle").inner_text() == "Running ■"
        assert api(page, dev, "/api/v1/sensors/inbox_sensor")["status"] == "RUNNING"
        shoot(page, artifacts, "overview-sensor-started")
    finally:
        # Leave the sensor running for the tests after this one, whatever happened above.
        page.goto(dev.url + "/")
        if row(page, "inbox_sensor").get_attribute("data-running") == "no":
            row(page, "inbox_sensor").locator("button.toggle").click()
            page.wait_for_selector('tr[data-name="inbox_sensor"][data-running="yes"]')


def test_the_sensor_page_shows_a_new_tick_on_its_timeline(
    page: Any, dev: Dev, artifacts: Path
) -> None:
    page.goto(dev.url + "/")
    row(page, "inbox_sensor").get_by_role("link", name="inbox_sensor").click()
    page.wait_for_url("**" + SENSOR_URL)
    assert page.locator("#instigator-status").get_attribute("data-running") == "yes"
    newest = max(tick_ids(page), default=0)

    def newer_tick() -> int | None:
        page.reload()
        ids = [i for i in tick_ids(page) if i > newest]
        return max(ids) if ids else None

    fresh = wait_until(newer_tick, timeout=45)
    bar = page.locator(f'#timeline rect[data-tick-id="{fresh}"]')
    assert bar.get_attribute("data-status") in ("SKIPPED", "SUCCESS")
    # The bar links to the tick's row in the table below the timeline.
    page.locator(f'#timeline a[href="#tick-{fresh}"]').dispatch_event("click")
    page.wait_for_url(f"**#tick-{fresh}")
    assert page.locator(f"tr#tick-{fresh}").is_visible()
    shoot(page, artifacts, "sensor-inbox_sensor")


def test_a_dropped_file_makes_a_run_whose_page_shows_its_compute_logs(
    page: Any, dev: Dev, artifacts: Path
) -> None:
    name = f"drop-{time.time_ns()}.txt"
    (dev.inbox / name).write_text("hello from the browser test")
    page.goto(dev.url + SENSOR_URL)

    def run_link() -> Any:
        page.reload()
        links = page.locator('table.ticks a[href^="/runs/"]')
        return links.first if links.count() else None

    wait_until(run_link, timeout=45)
    shoot(page, artifacts, "sensor-inbox_sensor-with-run")
    page.locator('table.ticks a[href^="/runs/"]').first.click()
    page.wait_for_url("**/runs/*")
    run_id = page.url.rsplit("/", 1)[1]
    assert page.title() == f"Run {run_id[:8]} · tocsin"

    def finished() -> str | None:
        page.reload()
        status = page.locator("#run-status").get_attribute("data-status")
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    assert wait_until(finished, timeout=60) == "SUCCESS", page.content()
    assert page.locator("main dl.facts").inner_text().count("log_file_job") == 1
    logs = page.locator('#compute-logs pre[data-step="process_file"][data-io="stdout"]')
    assert logs.inner_text().strip() == f"processed {name}"
    shoot(page, artifacts, "run-log_file_job")
    page.get_by_role("link", name="Runs", exact=True).click()
    page.wait_for_url("**/runs")
    assert page.locator(f'a[href="/runs/{run_id}"]').count() >= 1
    shoot(page, artifacts, "runs")
