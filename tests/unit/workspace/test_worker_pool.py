"""A code location's pool of user-code worker processes: started lazily, a timed-out worker
replaced alone, ``close`` covering them all, and the setting checked."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tocsin.daemon.assemble import location_workers
from tocsin.errors import ConfigError
from tocsin.workspace.location import WorkerLocation
from tocsin.workspace.pool import WorkerPool, WorkersBusy, workers_per_location
from tocsin.workspace.workspace import spec_for_file

DEFS = """
import os
import time
from tocsin import SkipReason, sensor


@sensor()
def slow(context):
    time.sleep(60)


@sensor()
def brief(context):
    time.sleep(0.2)


@sensor()
def quick(context):
    return SkipReason(str(os.getpid()))
"""


def wait_for(predicate: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def location_of(tmp_path):
    made: list[WorkerLocation] = []

    def make(workers: int) -> WorkerLocation:
        path = tmp_path / "defs.py"
        path.write_text(DEFS)
        location = WorkerLocation(spec_for_file(str(path)), workers=workers)
        made.append(location)
        return location

    yield make
    for location in made:
        location.close()


def quick_pid(location: WorkerLocation) -> int:
    evaluation = location.evaluate_sensor("quick", timeout=30)
    assert evaluation.error is None, evaluation.error
    return int(evaluation.skip_message)


class InBackground:
    """Evaluates the slow sensor on a thread."""

    def __init__(self, location: WorkerLocation, timeout: float):
        self.result: Any = None
        self.thread = threading.Thread(
            target=lambda: setattr(
                self, "result", location.evaluate_sensor("slow", timeout=timeout)
            )
        )
        self.thread.start()

    def join(self) -> Any:
        self.thread.join(60)
        assert not self.thread.is_alive()
        return self.result


def test_one_request_at_a_time_needs_one_worker(location_of):
    location = location_of(2)
    assert location.load_error() is None
    first = quick_pid(location)
    assert quick_pid(location) == first
    assert location.client.pids() == [first]


def test_requests_that_merely_overlap_share_one_worker(location_of):
    location = location_of(2)
    assert location.load_error() is None
    (first,) = location.client.pids()
    brief = threading.Thread(target=lambda: location.evaluate_sensor("brief", timeout=30))
    brief.start()
    wait_for(lambda: location.client.in_flight() == 1)
    # The worker comes free well within the spill delay, so no second process starts ...
    assert sorted(i.name for i in location.list_instigators())  # answered, not waited for
    assert quick_pid(location) == first
    brief.join(30)
    assert location.client.pids() == [first]


def test_a_timed_out_worker_is_replaced_while_the_other_keeps_answering(location_of):
    location = location_of(2)
    assert location.load_error() is None
    (slow_pid,) = location.client.pids()
    slow = InBackground(location, timeout=3)
    wait_for(lambda: location.client.in_flight() == 1)
    other = quick_pid(location)  # starts the second worker: the first is busy
    assert other != slow_pid
    assert quick_pid(location) == other
    evaluation = slow.join()
    assert evaluation.is_timeout and "time limit of 3 s" in evaluation.error.message
    wait_for(lambda: not process_exists(slow_pid))
    assert location.client.pids() == [other]  # untouched by the timeout
    assert quick_pid(location) == other
    # The next request that needs a second worker starts a fresh process.
    slow = InBackground(location, timeout=1)
    wait_for(lambda: location.client.in_flight() == 1)
    replacement = quick_pid(location)
    assert replacement not in (slow_pid, other)
    slow.join()


def test_a_pool_of_one_makes_the_second_request_wait_for_the_first(location_of):
    location = location_of(1)
    assert location.load_error() is None
    (first,) = location.client.pids()
    slow = InBackground(location, timeout=2)
    wait_for(lambda: location.client.in_flight() == 1)
    pid = quick_pid(location)  # waits until the slow request timed out
    assert slow.join().is_timeout
    assert pid != first  # it ran in the worker started after the slow one was stopped
    assert location.client.pids() == [pid]


def test_close_stops_idle_and_busy_workers_and_the_pool_starts_again(location_of):
    location = location_of(2)
    assert location.load_error() is None
    slow = InBackground(location, timeout=50)
    wait_for(lambda: location.client.in_flight() == 1)
    idle = quick_pid(location)
    busy = [p for p in location.client.pids() if p != idle]
    started = time.monotonic()
    location.close()
    evaluation = slow.join()
    assert time.monotonic() - started < 40  # the busy worker was killed, not waited for
    assert evaluation.error is not None and not evaluation.is_timeout
    assert location.client.pids() == []
    for pid in [idle, *busy]:
        wait_for(lambda pid=pid: not process_exists(pid))
    assert quick_pid(location) not in (idle, *busy)


def test_with_every_worker_busy_the_location_lists_its_sensors_from_the_last_answer(
    location_of,
):
    location = location_of(1)
    assert location.load_error() is None
    names = sorted(i.name for i in location.list_instigators())
    assert names == ["brief", "quick", "slow"]
    slow = InBackground(location, timeout=50)
    wait_for(lambda: location.client.in_flight() == 1)
    assert sorted(i.name for i in location.list_instigators()) == names
    assert location.load_error() is None
    assert slow.thread.is_alive()  # answered without waiting for the slow request
    with pytest.raises(WorkersBusy):
        location.client.request("list_jobs", wait=False)
    location.close()
    assert slow.join().error is not None


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2", [2]])
def test_a_bad_workers_per_location_says_what_to_write(value):
    with pytest.raises(ConfigError) as info:
        workers_per_location(value)
    assert "sensors.workers_per_location must be a whole number of at least 1" in str(info.value)
    assert repr(value) in str(info.value)


def test_workers_per_location_defaults_to_two_and_is_read_from_sensor_settings():
    class Instance:
        def __init__(self, sensors: dict[str, Any] | None):
            self.sensors = sensors

        def get_settings(self, key: str) -> Any:
            return self.sensors if key == "sensors" else None

    assert workers_per_location(None) == 2
    assert location_workers(Instance(None)) == 2
    assert location_workers(Instance({"workers_per_location": 3})) == 3
    with pytest.raises(ConfigError, match="got 0"):
        location_workers(Instance({"workers_per_location": 0}))
    with pytest.raises(ConfigError):
        WorkerPool(spec_for_file(__file__), size=0)
