"""``ExecuteInProcessResult``: what a run did, read from its events and captured outputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tocsin.errors import DagsterInvariantViolationError
from tocsin.model.events import AssetMaterialization, DagsterEvent, DagsterEventType, EventLogEntry

ET = DagsterEventType


class ExecuteInProcessResult:
    """The result of ``execute_in_process`` (or ``execute_run``).

    Attributes:
        success: whether the run succeeded.
        run_id: the run's id.
        dagster_run: the run as stored when it finished.
        all_events: every structured event of the run, in order.
    """

    def __init__(
        self,
        job_def: Any,
        event_list: Sequence[EventLogEntry],
        dagster_run: Any,
        output_capture: Mapping[tuple[str, str], Any] | None,
        success: bool,
    ):
        self.job_def = job_def
        self._entries = list(event_list)
        self._events = [e.dagster_event for e in self._entries if e.dagster_event is not None]
        self._dagster_run = dagster_run
        self._output_capture = dict(output_capture or {})
        self._success = success

    @property
    def success(self) -> bool:
        return self._success

    @property
    def run_id(self) -> str:
        return self._dagster_run.run_id

    @property
    def dagster_run(self) -> Any:
        return self._dagster_run

    @property
    def job_name(self) -> str:
        return self.job_def.name

    @property
    def all_events(self) -> list[Any]:
        """Every entry of the run in order, log lines included.

        A structured entry reads like its ``DagsterEvent`` (``event_type_value``,
        ``step_key``, ``is_step_failure``...); ``dagster_event`` is None on a log line.
        """
        return list(self._entries)

    @property
    def event_log_entries(self) -> list[EventLogEntry]:
        """Every entry of the run, log lines included."""
        return list(self._entries)

    @property
    def all_node_events(self) -> list[DagsterEvent]:
        return [e for e in self._events if e.step_key is not None]

    def events_for_node(self, node_name: str) -> list[DagsterEvent]:
        """Structured events of the steps of node ``node_name`` (mapped steps included)."""
        return [
            e
            for e in self._events
            if e.step_key is not None and (e.node_name == node_name or e.step_key == node_name)
        ]

    def filter_events(self, event_filter: Callable[[DagsterEvent], bool]) -> list[DagsterEvent]:
        return [e for e in self._events if event_filter(e)]

    def _of_type(self, event_type: DagsterEventType) -> list[DagsterEvent]:
        return [e for e in self._events if e.event_type_value == event_type.value]

    # -- outputs

    def output_for_node(self, node_str: str, output_name: str = "result") -> Any:
        """The value op ``node_str`` produced for ``output_name`` (a dict for dynamic ones)."""
        key = (node_str, output_name)
        if key not in self._output_capture:
            known = self.job_def.has_op(node_str) if self.job_def is not None else False
            if not known:
                raise DagsterInvariantViolationError(
                    f"Job '{self.job_name}' has no op '{node_str}'."
                )
            raise DagsterInvariantViolationError(
                f"Op '{node_str}' did not produce output '{output_name}' in this run (it may "
                "have failed, been skipped, or the output is optional)."
            )
        return self._output_capture[key]

    def output_value(self, output_name: str = "result") -> Any:
        """The value of one of the job's graph outputs."""
        mapping = self.job_def.graph.output_mappings.get(output_name)
        if mapping is None:
            raise DagsterInvariantViolationError(
                f"Job '{self.job_name}' has no output '{output_name}' (outputs: "
                f"{list(self.job_def.graph.output_mappings)})."
            )
        resolved = self.job_def.graph._resolve_output("", *mapping)
        return self.output_for_node(resolved.node, resolved.output)

    # -- assets

    def asset_materializations_for_node(self, node_name: str) -> list[AssetMaterialization]:
        return [
            e.materialization
            for e in self.events_for_node(node_name)
            if e.event_type_value == ET.ASSET_MATERIALIZATION.value and e.materialization
        ]

    def get_asset_materialization_events(self) -> list[DagsterEvent]:
        return self._of_type(ET.ASSET_MATERIALIZATION)

    def get_asset_observation_events(self) -> list[DagsterEvent]:
        return self._of_type(ET.ASSET_OBSERVATION)

    # -- run and step events

    def get_run_success_event(self) -> DagsterEvent:
        events = self._of_type(ET.RUN_SUCCESS)
        if not events:
            raise DagsterInvariantViolationError("No run success event: the run did not succeed.")
        return events[0]

    def get_run_failure_event(self) -> DagsterEvent:
        events = self._of_type(ET.RUN_FAILURE)
        if not events:
            raise DagsterInvariantViolationError("No run failure event: the run did not fail.")
        return events[0]

    get_job_success_event = get_run_success_event
    get_job_failure_event = get_run_failure_event

    def get_step_success_events(self) -> list[DagsterEvent]:
        return self._of_type(ET.STEP_SUCCESS)

    def get_step_failure_events(self) -> list[DagsterEvent]:
        return self._of_type(ET.STEP_FAILURE)

    def get_failed_step_keys(self) -> set[str]:
        return {e.step_key for e in self.get_step_failure_events() if e.step_key}

    def __repr__(self) -> str:
        return f"<ExecuteInProcessResult job={self.job_name!r} success={self._success}>"
