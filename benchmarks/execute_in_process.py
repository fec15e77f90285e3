"""Workload ``execute_in_process``: a 1-op job and a 20-op chain, fresh instance per run."""

from __future__ import annotations

from _harness import IMPL, measure, package, quiet_reference, report

if IMPL != "tocsin":
    quiet_reference()
pkg = package()


@pkg.op
def one():
    return 1


@pkg.job
def single():
    one()


def _chain_op(i: int):
    @pkg.op(name=f"step_{i}")
    def _step(x):
        return x + 1

    return _step


STEPS = [_chain_op(i) for i in range(19)]


@pkg.job
def chain():
    value = one()
    for step in STEPS:
        value = step(value)


def run(job) -> None:
    instance = pkg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance)
    if not result.success:
        raise RuntimeError("benchmark job failed")


if __name__ == "__main__":
    report("execute_in_process[1 op]", measure(lambda: run(single), repeats=30, warmup=3))
    report("execute_in_process[20-op chain]", measure(lambda: run(chain), repeats=15, warmup=2))
