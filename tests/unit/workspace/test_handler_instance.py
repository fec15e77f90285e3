"""A code location opens the instance a request's ref names only when an evaluation reads
``context.instance``, and keeps it for the next requests."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import tocsin as dg
from tocsin.instance.instance import DagsterInstance
from tocsin.workspace.handler import LocationHandler


@dg.op
def noop():
    return None


@dg.job
def the_job():
    noop()


@dg.sensor(job=the_job)
def quiet(context):
    return dg.SkipReason("nothing to do")


@dg.sensor(job=the_job)
def counting(context):
    return dg.SkipReason(f"{context.instance.get_runs_count()} runs")


def _handler() -> LocationHandler:
    return LocationHandler(lambda: dg.Definitions(jobs=[the_job], sensors=[quiet, counting]))


def test_a_sensor_that_never_reads_the_instance_does_not_open_it(tmp_path):
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        handler = _handler()
        evaluation = handler.evaluate_sensor("quiet", instance_ref=instance.get_ref())
        assert evaluation.skip_message == "nothing to do" and evaluation.error is None
        assert handler._instances == {}
    finally:
        instance.dispose()


def test_an_instance_opened_by_one_evaluation_serves_the_next(tmp_path):
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        instance.create_run(job_name="the_job")
        handler = _handler()
        first = handler.evaluate_sensor("counting", instance_ref=instance.get_ref())
        assert first.skip_message == "1 runs"
        (opened,) = handler._instances.values()
        instance.create_run(job_name="the_job")
        second = handler.evaluate_sensor("counting", instance_ref=instance.get_ref())
        assert second.skip_message == "2 runs"
        assert list(handler._instances.values()) == [opened]
        handler.close()
        assert handler._instances == {}
    finally:
        instance.dispose()


def test_a_worker_evaluating_a_quiet_sensor_never_loads_the_storage_layer(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        from tocsin.instance.ref import InstanceRef
        from tocsin.workspace.handler import LocationHandler
        import tocsin as dg

        @dg.op
        def noop():
            return None

        @dg.job
        def j():
            noop()

        @dg.sensor(job=j)
        def quiet(context):
            return dg.SkipReason("idle")

        handler = LocationHandler(lambda: dg.Definitions(jobs=[j], sensors=[quiet]))
        ref = InstanceRef.for_sqlite_dir({str(tmp_path)!r})
        assert handler.evaluate_sensor("quiet", instance_ref=ref).skip_message == "idle"
        print("sqlalchemy" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
