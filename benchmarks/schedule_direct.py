"""Workload ``schedule_direct``: a schedule evaluated directly, each call with a fresh
``build_schedule_context(scheduled_execution_time=...)``; reported per call (context + call)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from _harness import IMPL, measure, package, quiet_reference, report

if IMPL != "tocsin":
    quiet_reference()
pkg = package()
CALLS = 2000
START = datetime(2024, 1, 1, tzinfo=UTC)
TIMES = [START + timedelta(hours=i) for i in range(CALLS)]


@pkg.op(config_schema={"date": str})
def dated(context):
    return context.op_config["date"]


@pkg.job
def daily_job():
    dated()


@pkg.schedule(cron_schedule="0 * * * *", job=daily_job)
def hourly(context):
    date = context.scheduled_execution_time.strftime("%Y-%m-%dT%H")
    return pkg.RunRequest(run_key=date, run_config={"ops": {"dated": {"config": {"date": date}}}})


def run() -> None:
    for when in TIMES:
        request = hourly(pkg.build_schedule_context(scheduled_execution_time=when))
        if request.run_key is None:
            raise RuntimeError("schedule returned no run key")


if __name__ == "__main__":
    samples = [s / CALLS for s in measure(run, repeats=7, warmup=1)]
    report("schedule_direct[per call]", samples, unit="us", scale=1e6, calls=CALLS)
