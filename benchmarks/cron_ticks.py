"""Workload ``cron_ticks``: microseconds per next-tick, iterating 10,000 ticks in New York.

With ``BENCH_IMPL=tocsin`` (default) this uses ``tocsin.cron.CronSchedule.iter_after``; with
``BENCH_IMPL=dagster`` the reference's ``dagster._utils.schedules.cron_string_iterator``.
One JSON line per cron: ``median_us_per_tick`` (and the harness's ``median``/``min``/``max`` in
the same unit) over ``repeats`` runs of 10,000 ticks each.
"""

from __future__ import annotations

import datetime as dt
import itertools

from _harness import IMPL, measure, quiet_reference, report, unsupported

ZONE = "America/New_York"
TICKS = 10_000
REPEATS = 7
START = dt.datetime(2024, 1, 1, 0, 7, tzinfo=dt.UTC)
WORKLOADS = {
    "cron_ticks_every_5_minutes": "*/5 * * * *",
    "cron_ticks_weekdays_9am": "0 9 * * 1-5",
    "cron_ticks_hourly": "0 * * * *",
    "cron_ticks_daily": "0 2 * * *",
    "cron_ticks_weekly": "30 6 * * 1",
    "cron_ticks_monthly": "0 0 1 * *",
}


def tocsin_runner(cron: str):
    from tocsin.cron import CronSchedule

    schedule = CronSchedule.parse(cron, timezone=ZONE)
    return lambda: list(itertools.islice(schedule.iter_after(START), TICKS))


def reference_runner(cron: str):
    quiet_reference()
    from dagster._utils.schedules import cron_string_iterator

    start = START.timestamp()
    return lambda: list(itertools.islice(cron_string_iterator(start, cron, ZONE), TICKS))


def main() -> None:
    for workload, cron in WORKLOADS.items():
        try:
            run = reference_runner(cron) if IMPL == "dagster" else tocsin_runner(cron)
        except ImportError as exc:
            unsupported(workload, f"cannot import a cron iterator: {exc}")
            continue
        samples = [s / TICKS for s in measure(run, repeats=REPEATS)]
        median = sorted(samples)[len(samples) // 2]
        report(
            workload,
            samples,
            unit="us",
            scale=1e6,
            cron=cron,
            timezone=ZONE,
            median_us_per_tick=round(median * 1e6, 3),
        )


if __name__ == "__main__":
    main()
