"""Code location for ``daemon_tick_runkeys`` and ``run_status_sensor``, on either implementation.

``BENCH_RUNKEYS_N`` sets how many keyed run requests ``many_keys`` yields each tick.
"""

from __future__ import annotations

import importlib
import os

pkg = importlib.import_module(os.environ.get("BENCH_IMPL", "tocsin"))


@pkg.op
def noop():
    return None


@pkg.job
def target_job():
    noop()


@pkg.sensor(job=target_job, default_status=pkg.DefaultSensorStatus.RUNNING)
def many_keys(context):
    for i in range(int(os.environ.get("BENCH_RUNKEYS_N", "100"))):
        yield pkg.RunRequest(run_key=f"key-{i}")


@pkg.run_status_sensor(
    run_status=pkg.DagsterRunStatus.SUCCESS,
    monitor_all_code_locations=True,
    default_status=pkg.DefaultSensorStatus.RUNNING,
)
def on_success(context):
    return None


SENSORS = {
    "runkeys": [many_keys],
    "run_status": [on_success],
}

defs = pkg.Definitions(
    jobs=[target_job], sensors=SENSORS[os.environ.get("BENCH_SENSORS", "runkeys")]
)
