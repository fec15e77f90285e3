"""How fast the web UI renders over a big SQLite instance.

Fills an instance with 100,000 runs (tagged by the sensor that made them) and 1,000,000 ticks
spread over 20 sensors, through SQLAlchemy Core inserts into tocsin's own tables, then prints
one JSON line per page with the median render time (goal: under 150 ms each):
  - ``web_overview``: ``/`` (the sensors tab);
  - ``web_sensor_page``: ``/sensors/s0`` (timeline, tick table);
  - ``web_runs_list``: ``/runs`` and ``/runs?cursor=<a run deep in the list>`` (keyset paging).

Usage: ``python benchmarks/web_render.py [--runs N] [--ticks N] [--repeats N]``.
tocsin only (the reference has no equivalent server to drive in-process).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import IMPL, measure, report, unsupported

SENSORS = 20
CHUNK = 20_000


def _fill(storage: Any, runs: int, ticks: int) -> list[str]:
    import sqlalchemy as sa

    from tocsin.model.run import DagsterRun, DagsterRunStatus
    from tocsin.model.tags import INSTIGATOR_TAG, SENSOR_NAME_TAG
    from tocsin.storage import schema as t

    start = datetime(2024, 1, 1, tzinfo=UTC)
    statuses = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    run_ids: list[str] = []
    with storage.engine.begin() as conn:
        for lo in range(0, runs, CHUNK):
            rows, tags = [], []
            for i in range(lo, min(runs, lo + CHUNK)):
                sensor = f"s{i % SENSORS}"
                origin = f"bench:sensor:{sensor}"
                run = DagsterRun(
                    job_name=f"job_{i % 7}",
                    run_id=str(uuid.uuid4()),
                    status=statuses[i % 3],
                    tags={INSTIGATOR_TAG: origin, SENSOR_NAME_TAG: sensor},
                )
                row = storage._run_row(run, start + timedelta(seconds=i))
                rows.append(row)
                tags += [{"run_id": run.run_id, "key": k, "value": v} for k, v in run.tags.items()]
                run_ids.append(run.run_id)
            conn.execute(sa.insert(t.runs), rows)
            conn.execute(sa.insert(t.run_tags), tags)
        for lo in range(0, ticks, CHUNK):
            rows = []
            for i in range(lo, min(ticks, lo + CHUNK)):
                sensor = f"s{i % SENSORS}"
                when = start + timedelta(seconds=30 * (i // SENSORS))
                status = "SUCCESS" if i % 10 == 0 else "SKIPPED"
                body = {
                    "instigator_origin_id": f"bench:sensor:{sensor}",
                    "instigator_name": sensor,
                    "instigator_type": "SENSOR",
                    "timestamp": when.timestamp(),
                    "status": status,
                    "run_ids": [run_ids[i % len(run_ids)]] if status == "SUCCESS" else [],
                    "skip_reason": None if status == "SUCCESS" else "nothing new",
                    "end_timestamp": when.timestamp() + 0.05,
                }
                rows.append(
                    {
                        "instigator_origin_id": body["instigator_origin_id"],
                        "instigator_name": sensor,
                        "instigator_type": "SENSOR",
                        "status": status,
                        "timestamp": when,
                        "body": body,
                    }
                )
            conn.execute(sa.insert(t.ticks), rows)
    return run_ids


def _definitions() -> Any:
    from tocsin import Definitions, SkipReason, job, op, sensor

    @op
    def step() -> None:
        return None

    @job
    def bench_job() -> None:
        step()

    def make(name: str) -> Any:
        @sensor(name=name, job=bench_job, minimum_interval_seconds=30)
        def _sensor(context: Any) -> Any:
            return SkipReason("benchmark")

        return _sensor

    return Definitions(jobs=[bench_job], sensors=[make(f"s{i}") for i in range(SENSORS)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if IMPL != "tocsin":
        for name in (
            "web_overview",
            "web_sensor_page",
            "web_runs_list",
            "web_runs_list_deep",
            "web_runs_list_filtered",
        ):
            unsupported(name, "no in-process web server to drive")
        return
    from starlette.testclient import TestClient

    from tocsin import DagsterInstance
    from tocsin.web.app import create_app
    from tocsin.workspace.location import InProcessLocation

    with tempfile.TemporaryDirectory() as home, DagsterInstance.ephemeral(home) as instance:
        began = time.perf_counter()
        run_ids = _fill(instance.runs, args.runs, args.ticks)
        fill_seconds = time.perf_counter() - began
        print(json.dumps({"fill_seconds": round(fill_seconds, 1)}), file=sys.stderr)
        app = create_app(instance, [InProcessLocation("bench", _definitions())])
        deep = run_ids[len(run_ids) // 2]
        with TestClient(app) as client:

            def get(url: str) -> Any:
                def call() -> None:
                    response = client.get(url)
                    if response.status_code != 200:
                        raise SystemExit(f"{url} answered {response.status_code}")

                return call

            sizes = {"runs": args.runs, "ticks": args.ticks}
            report("web_overview", measure(get("/"), repeats=args.repeats), **sizes)
            report("web_sensor_page", measure(get("/sensors/s0"), repeats=args.repeats), **sizes)
            report("web_runs_list", measure(get("/runs"), repeats=args.repeats), **sizes)
            report(
                "web_runs_list_deep",
                measure(get(f"/runs?cursor={deep}"), repeats=args.repeats),
                **sizes,
            )
            report(
                "web_runs_list_filtered",
                measure(get("/runs?status=FAILURE&job=job_3"), repeats=args.repeats),
                **sizes,
            )


if __name__ == "__main__":
    main()
