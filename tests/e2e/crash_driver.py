"""A daemon for the crash-safety test: ``python crash_driver.py <home> <defs.py> <ticks>``.

It ticks the sensor loop of one in-process code location on the instance in ``<home>``, its
clock one minute further each pass (so every pass is due), until the sensor's cursor reaches
``<ticks>``, then exits 0. Runs are submitted to a launcher that does nothing (the run stays
STARTING), so the test measures the tick protocol alone. ``TOCSIN_CRASH_AT`` kills it.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta


class IdleLauncher:
    def launch_run(self, run):
        pass

    def terminate(self, run_id):
        return False


def main(home: str, defs_path: str, ticks: int) -> int:
    from tocsin.daemon.sensors import SensorLoop
    from tocsin.instance.instance import DagsterInstance
    from tocsin.launchers.base import ImmediateCoordinator
    from tocsin.workspace.location import InProcessLocation
    from tocsin.workspace.workspace import spec_for_file

    instance = DagsterInstance.from_config(home)
    location = InProcessLocation("defs", spec=spec_for_file(defs_path, name="defs"))
    loop = SensorLoop(instance, [location], ImmediateCoordinator(instance, IdleLauncher()))
    origin = "defs:sensor:keyed"
    state = instance.ticks.get_instigator_state(origin)
    now = datetime.now(UTC)
    if state is not None and state.last_tick_timestamp is not None:
        now = max(now, state.last_tick_timestamp)
    while True:
        now += timedelta(minutes=1)
        report = loop.tick(now)
        if report.location_errors:
            print(report.location_errors, file=sys.stderr)
            return 2
        state = instance.ticks.get_instigator_state(origin)
        if state is not None and int(state.cursor or 0) >= ticks:
            instance.dispose()
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
