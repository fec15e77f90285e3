"""Code location for ``end_to_end`` and ``daemon_idle_rss``, on either implementation.

``BENCH_DROP_DIR``: the directory ``on_drop`` watches (one keyed run per file, every 1 s).
``BENCH_IDLE_SENSORS``: when set, the location instead holds that many sensors that tick every
30 s and skip.
"""

from __future__ import annotations

import importlib
import os

pkg = importlib.import_module(os.environ.get("BENCH_IMPL", "tocsin"))


@pkg.op
def handle_file(context):
    return None


# Steps run in the run process itself (tocsin runs launched from a -f location cannot yet
# import the file in multiprocess step children).
@pkg.job(executor_def=pkg.in_process_executor)
def process_file():
    handle_file()


@pkg.sensor(
    job=process_file, minimum_interval_seconds=1, default_status=pkg.DefaultSensorStatus.RUNNING
)
def on_drop(context):
    folder = os.environ["BENCH_DROP_DIR"]
    for name in sorted(os.listdir(folder)):
        yield pkg.RunRequest(run_key=name)


def _idle(i: int):
    @pkg.sensor(
        name=f"idle_{i}",
        job=process_file,
        minimum_interval_seconds=30,
        default_status=pkg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context):
        return pkg.SkipReason("idle")

    return _sensor


IDLE = int(os.environ.get("BENCH_IDLE_SENSORS", "0"))
defs = pkg.Definitions(
    jobs=[process_file], sensors=[_idle(i) for i in range(IDLE)] if IDLE else [on_drop]
)
