"""The run worker: ``python -m tocsin.launchers.run_worker <instance-ref> <run-id>``.

Opens the instance, loads the run's job from the code location recorded on the run
(``.tocsin/code_origin``), and executes the run with ``tocsin.execution.run.execute_run``.
A job that cannot be loaded fails the run with the reason.
"""

from __future__ import annotations

import base64
import pickle
import sys
from typing import Any

from tocsin.model.run import DagsterRun


def encode_ref(ref: Any) -> str:
    return base64.urlsafe_b64encode(pickle.dumps(ref)).decode("ascii")


def decode_ref(text: str) -> Any:
    return pickle.loads(base64.urlsafe_b64decode(text.encode("ascii")))


def load_job(run: DagsterRun) -> Any:
    """The job definition a run executes, loaded from the code origin on its tags."""
    from tocsin.errors import DagsterInvariantViolationError
    from tocsin.model.tags import CODE_ORIGIN_TAG
    from tocsin.workspace.workspace import LocationSpec, load_definitions

    origin = run.tags.get(CODE_ORIGIN_TAG)
    if origin is None:
        raise DagsterInvariantViolationError(
            f"Run {run.run_id} has no {CODE_ORIGIN_TAG} tag, so its code cannot be found. "
            "Launch it from a code location (tocsin daemon run -f/-m/-w)."
        )
    defs = load_definitions(LocationSpec.from_json(origin))
    return defs.get_job_def(run.job_name)


def execute_run_by_id(instance: Any, run_id: str, job: Any = None) -> DagsterRun | None:
    """Execute a stored run; the job is loaded from the run's code origin unless given."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return None
    try:
        from tocsin.execution.run import execute_run

        job = job if job is not None else load_job(run)
    except Exception as exc:  # the run records why it could not start
        import traceback

        reason = "".join(traceback.format_exception(exc))
        instance.report_run_failed(run, message=f"Could not load the job of this run:\n{reason}")
        return instance.get_run_by_id(run_id)
    execute_run(job, run, instance)
    return instance.get_run_by_id(run_id)


def main(argv: list[str] | None = None) -> int:
    from tocsin.instance.instance import DagsterInstance

    args = sys.argv[1:] if argv is None else argv
    ref, run_id = decode_ref(args[0]), args[1]
    instance = DagsterInstance.from_ref(ref)
    try:
        run = execute_run_by_id(instance, run_id)
    finally:
        instance.dispose()
    return 0 if run is not None and run.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
