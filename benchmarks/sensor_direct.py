"""Workload ``sensor_direct``: a decorated sensor yielding 1,000 keyed run requests, invoked
directly with a context built by ``build_sensor_context`` (the generator is consumed)."""

from __future__ import annotations

from _harness import IMPL, measure, package, quiet_reference, report

if IMPL != "tocsin":
    quiet_reference()
pkg = package()
KEYS = 1000


@pkg.op
def noop():
    return None


@pkg.job
def target_job():
    noop()


@pkg.sensor(job=target_job)
def keyed(context):
    for i in range(KEYS):
        yield pkg.RunRequest(run_key=f"key-{i}", tags={"i": str(i)})


def run() -> None:
    context = pkg.build_sensor_context(cursor="0")
    requests = list(keyed(context))
    if len(requests) != KEYS:
        raise RuntimeError(f"expected {KEYS} run requests, got {len(requests)}")


if __name__ == "__main__":
    report(f"sensor_direct[{KEYS} run requests]", measure(run, repeats=20, warmup=3))
