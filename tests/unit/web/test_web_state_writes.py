"""Start, stop and cursor changes made through the web service change only what they set: a
cursor or tick the daemon wrote after the page read the sensor's state survives them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tocsin import DagsterInstance
from tocsin.model.ticks import InstigatorStatus, InstigatorType, Tick, TickStatus
from tocsin.web.service import Service
from tocsin.workspace.location import InProcessLocation

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
T1 = datetime(2024, 1, 1, 12, 5, tzinfo=UTC)
ORIGIN = "loc:sensor:watch"


def _daemon_ticks(instance: DagsterInstance, state, cursor: str) -> None:
    """What the daemon commits for one tick of ``watch``, from the state it read."""
    tick = Tick(ORIGIN, "watch", InstigatorType.SENSOR, T0, TickStatus.SUCCESS, cursor=cursor)
    new_state = replace(state, last_tick_timestamp=T0, last_tick_status=TickStatus.SUCCESS)
    instance.ticks.write_tick(tick, (), cursor, new_state)


def test_a_daemon_cursor_survives_a_stop_made_through_the_web_service(
    instance: DagsterInstance, location: InProcessLocation
) -> None:
    service = Service(instance, [location])
    service.set_running(service.instigator("sensor", "watch"), True, T0)
    page = service.instigator("sensor", "watch")  # the page reads the state...
    _daemon_ticks(instance, page.state, "seen-7")  # ...the daemon ticks meanwhile...
    stopped = service.set_running(page, False, T1)  # ...and the user presses stop
    stored = instance.ticks.get_instigator_state(ORIGIN)
    assert stored == stopped
    assert (stored.status, stored.cursor, stored.last_tick_timestamp) == (
        InstigatorStatus.STOPPED,
        "seen-7",
        T0,
    )
    assert stored.extra["status_changed_at"] == T1.timestamp()


def test_a_cursor_set_through_the_web_service_keeps_a_concurrent_stop(
    instance: DagsterInstance, location: InProcessLocation
) -> None:
    service = Service(instance, [location])
    service.set_running(service.instigator("sensor", "watch"), True, T0)
    page = service.instigator("sensor", "watch")
    service.set_running(service.instigator("sensor", "watch"), False, T1)  # another tab
    service.set_cursor(page, "42")
    stored = instance.ticks.get_instigator_state(ORIGIN)
    assert (stored.status, stored.cursor) == (InstigatorStatus.STOPPED, "42")


def test_a_sensor_never_stored_is_created_by_its_first_change(
    instance: DagsterInstance, location: InProcessLocation
) -> None:
    service = Service(instance, [location])
    service.set_cursor(service.instigator("sensor", "watch"), "1")
    stored = instance.ticks.get_instigator_state(ORIGIN)
    assert (stored.name, stored.status, stored.cursor) == (
        "watch",
        InstigatorStatus.DECLARED_IN_CODE,
        "1",
    )
