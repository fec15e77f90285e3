"""``Definitions``: everything a code location declares, checked and resolved as one.

``Definitions(assets=..., jobs=..., sensors=..., schedules=..., resources=..., executor=...,
loggers=...)`` keeps what it is given and resolves it on first use (a lookup, or
``get_repository_def()``): asset jobs are built against the asset graph, top-level resources,
executor and loggers are bound to every job, names are checked for duplicates, and every
sensor and schedule must target a job that exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.model.asset_key import AssetKey

DEFAULT_REPOSITORY_NAME = "__repository__"
IMPLICIT_ASSET_JOB_NAME = "__ASSET_JOB"
ANONYMOUS_ASSET_JOB_PREFIX = "__anonymous_asset_job_"


def _as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise DagsterInvalidDefinitionError(
            f"Definitions {what} must be a list, got {value!r} of type {type(value).__name__}."
        )
    return list(value)


def _as_dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DagsterInvalidDefinitionError(
            f"Definitions {what} must be a dict of key to definition, got {value!r}."
        )
    return dict(value)


def _found(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in sorted(names))


def _is_unresolved(job: Any) -> bool:
    from tocsin.definitions.asset_job import UnresolvedAssetJobDefinition

    return isinstance(job, UnresolvedAssetJobDefinition)


def _target_jobs(instigator: Any) -> list[Any]:
    target_jobs = getattr(instigator, "target_jobs", None)
    if callable(target_jobs):
        return list(target_jobs())
    jobs = getattr(instigator, "jobs", None)
    if jobs:
        return list(jobs)
    job = getattr(instigator, "job", None)
    return [job] if job is not None and not isinstance(job, str) else []


def _target_names(instigator: Any) -> list[str]:
    targets = getattr(instigator, "targets", None)
    if callable(targets):
        return [t if isinstance(t, str) else t.name for t in targets()]
    name = getattr(instigator, "job_name", None)
    return [name] if name else []


class _Resolved:
    """The checked, resolved contents of a ``Definitions``."""

    def __init__(self, defs: Definitions):
        from tocsin.definitions.asset_graph import AssetGraph

        self.asset_graph = AssetGraph.from_assets(defs.assets)
        self.sensors: dict[str, Any] = {}
        self.schedules: dict[str, Any] = {}
        self._collect_instigators(defs)
        given = self._collect_jobs(defs)
        self.jobs: dict[str, Any] = {
            name: self._resolve_job(defs, job) for name, job in given.items()
        }
        self._check_targets()

    def _collect_instigators(self, defs: Definitions) -> None:
        seen: dict[str, Any] = {}
        for kind, items, target in (
            ("sensor", defs.sensors, self.sensors),
            ("schedule", defs.schedules, self.schedules),
        ):
            for item in items:
                name = getattr(item, "name", None)
                if not isinstance(name, str):
                    raise DagsterInvalidDefinitionError(
                        f"Definitions {kind}s must be {kind} definitions, got {item!r}."
                    )
                if name in seen:
                    if seen[name] is item:
                        continue
                    raise DagsterInvalidDefinitionError(f"Duplicate definition found for {name}")
                seen[name] = item
                target[name] = item

    def _collect_jobs(self, defs: Definitions) -> dict[str, Any]:
        jobs: dict[str, Any] = {}
        targeted = [j for i in [*defs.sensors, *defs.schedules] for j in _target_jobs(i)]
        for job in [*defs.jobs, *targeted]:
            name = getattr(job, "name", None)
            if not isinstance(name, str):
                raise DagsterInvalidDefinitionError(
                    f"Definitions jobs must be jobs (JobDefinition or define_asset_job), got "
                    f"{job!r}."
                )
            existing = jobs.get(name)
            if existing is None:
                jobs[name] = job
            elif existing is not job:
                kind = "unresolved job" if _is_unresolved(job) else "job"
                if _is_unresolved(job):
                    raise DagsterInvalidDefinitionError(
                        f"Duplicate definition found for {kind} '{name}'"
                    )
                raise DagsterInvalidDefinitionError(
                    f"Duplicate job definition found for job '{name}'"
                )
        for name, instigator in self.sensors.items():
            selection = getattr(instigator, "asset_selection", None)
            if selection is not None and not _target_names(instigator):
                from tocsin.definitions.asset_job import define_asset_job

                job_name = f"{ANONYMOUS_ASSET_JOB_PREFIX}{name}"
                jobs[job_name] = define_asset_job(job_name, selection)
        return jobs

    def _resolve_job(self, defs: Definitions, job: Any) -> Any:
        if _is_unresolved(job):
            return job.resolve(
                self.asset_graph,
                resource_defs=defs.resources,
                executor_def=defs.executor,
                logger_defs=defs.loggers or None,
            )
        return bind_job(job, defs.resources, defs.executor, defs.loggers)

    def _check_targets(self) -> None:
        for kind, items in (
            ("SensorDefinition", self.sensors),
            ("ScheduleDefinition", self.schedules),
        ):
            for name, instigator in items.items():
                for job_name in _target_names(instigator):
                    if job_name not in self.jobs:
                        raise DagsterInvalidDefinitionError(
                            f'{kind} "{name}" targets job "{job_name}" which was not found in '
                            "this repository."
                        )


def bind_job(
    job: Any,
    resources: Mapping[str, Any] | None,
    executor: Any = None,
    loggers: Mapping[str, Any] | None = None,
) -> Any:
    """``job`` with top-level resources, executor and loggers added where it has none.

    The job's own resources, executor and loggers win over the top-level ones.
    """
    bound = job
    if resources:
        bound = bound.with_top_level_resources(dict(resources))
    if executor is not None and not bound.has_explicit_executor:
        bound = bound.with_executor_def(executor)
    if loggers:
        bound = bound._copy(logger_defs={**loggers, **bound.logger_defs})
    return bound


class Definitions:
    """The definitions of a code location: assets, jobs, sensors, schedules and resources.

    Args:
        assets: ``@asset`` definitions, ``SourceAsset``s and ``AssetSpec``s.
        schedules: schedule definitions.
        sensors: sensor definitions.
        jobs: ``JobDefinition``s and ``define_asset_job`` jobs.
        resources: resources bound to every job (a job's own resources win).
        executor: the executor of jobs that do not set one.
        loggers: loggers for every job.
        asset_checks: kept as data.
        metadata: free-form metadata.
    """

    def __init__(
        self,
        assets: Iterable[Any] | None = None,
        schedules: Iterable[Any] | None = None,
        sensors: Iterable[Any] | None = None,
        jobs: Iterable[Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        executor: Any = None,
        loggers: Mapping[str, Any] | None = None,
        asset_checks: Iterable[Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        **_ignored: Any,
    ):
        self.assets = _as_list(assets, "assets")
        self.schedules = _as_list(schedules, "schedules")
        self.sensors = _as_list(sensors, "sensors")
        self.jobs = _as_list(jobs, "jobs")
        self.resources = _as_dict(resources, "resources")
        self.executor = executor
        self.loggers = _as_dict(loggers, "loggers")
        self.asset_checks = _as_list(asset_checks, "asset_checks")
        self.metadata = dict(metadata or {})
        self.name = DEFAULT_REPOSITORY_NAME
        self._resolved: _Resolved | None = None

    # --- resolution ---------------------------------------------------------------------------

    def _resolve(self) -> _Resolved:
        if self._resolved is None:
            self._resolved = _Resolved(self)
        return self._resolved

    @staticmethod
    def validate_loadable(defs: Definitions) -> None:
        """Resolve ``defs`` now, raising any definition error."""
        defs.get_repository_def()

    def get_repository_def(self) -> RepositoryDefinition:
        """The resolved repository (named ``__repository__``), as sensors and the daemon see it."""
        return RepositoryDefinition(self, self._resolve())

    # --- lookups --------------------------------------------------------------------------------

    def get_job_def(self, name: str) -> Any:
        """The resolved job called ``name`` (asset jobs resolved, top-level resources bound)."""
        jobs = self._resolve().jobs
        if name not in jobs:
            if name == IMPLICIT_ASSET_JOB_NAME and self.assets:
                return self.get_implicit_global_asset_job_def()
            raise DagsterInvariantViolationError(
                f"Could not find job '{name}'. Found: {_found(jobs)}."
            )
        return jobs[name]

    resolve_job_def = get_job_def

    def has_job_def(self, name: str) -> bool:
        return name in self._resolve().jobs

    def get_all_job_defs(self) -> list[Any]:
        return list(self._resolve().jobs.values())

    resolve_all_job_defs = get_all_job_defs

    def get_sensor_def(self, name: str) -> Any:
        sensors = self._resolve().sensors
        if name not in sensors:
            raise DagsterInvariantViolationError(
                f"Could not find sensor '{name}'. Found: {_found(sensors)}."
            )
        return sensors[name]

    resolve_sensor_def = get_sensor_def

    def get_schedule_def(self, name: str) -> Any:
        schedules = self._resolve().schedules
        if name not in schedules:
            raise DagsterInvariantViolationError(
                f"Could not find schedule '{name}'. Found: {_found(schedules)}."
            )
        return schedules[name]

    resolve_schedule_def = get_schedule_def

    def get_asset_graph(self) -> Any:
        """The ``AssetGraph`` of these definitions' assets."""
        return self._resolve().asset_graph

    resolve_asset_graph = get_asset_graph

    def get_assets_def(self, key: Any) -> Any:
        """The ``AssetsDefinition`` that computes ``key`` (a str ``"a/b"``, list or key)."""
        from tocsin.definitions.asset import coerce_key

        asset_key = coerce_key(key)
        assets_def = self.get_asset_graph().assets_def_for_key(asset_key)
        if assets_def is None:
            raise DagsterInvariantViolationError(f"Could not find asset {asset_key!r}")
        return assets_def

    resolve_assets_def = get_assets_def

    def resolve_all_asset_keys(self) -> list[AssetKey]:
        return sorted(self.get_asset_graph().all_asset_keys)

    def get_implicit_global_asset_job_def(self) -> Any:
        """A job that materializes every asset (named ``__ASSET_JOB``)."""
        from tocsin.definitions.asset_job import define_asset_job

        return define_asset_job(IMPLICIT_ASSET_JOB_NAME).resolve(
            self.get_asset_graph(),
            resource_defs=self.resources,
            executor_def=self.executor,
            logger_defs=self.loggers or None,
        )

    resolve_implicit_global_asset_job_def = get_implicit_global_asset_job_def

    # --- combining ------------------------------------------------------------------------------

    @staticmethod
    def merge(*def_sets: Definitions) -> Definitions:
        """One ``Definitions`` with everything from ``def_sets``.

        Raises:
            DagsterInvalidDefinitionError: two of them give different values for the same
                resource or logger key, or different executors.
        """
        for i, defs in enumerate(def_sets):
            if not isinstance(defs, Definitions):
                raise DagsterInvalidDefinitionError(
                    f"Definitions.merge takes Definitions objects; argument {i} is {defs!r}."
                )
        resources: dict[str, Any] = {}
        loggers: dict[str, Any] = {}
        owner: dict[tuple[str, str], int] = {}
        executor: Any = None
        executor_index = -1
        for i, defs in enumerate(def_sets):
            for kind, target, values in (
                ("resource", resources, defs.resources),
                ("logger", loggers, defs.loggers),
            ):
                for key, value in values.items():
                    if key in target and target[key] is not value:
                        raise DagsterInvalidDefinitionError(
                            f"Definitions objects {owner[(kind, key)]} and {i} have different "
                            f"{kind}s for key '{key}'. Give them the same {kind} or rename one."
                        )
                    target[key] = value
                    owner.setdefault((kind, key), i)
            if defs.executor is not None:
                if executor is not None and executor is not defs.executor:
                    raise DagsterInvalidDefinitionError(
                        f"Definitions objects {executor_index} and {i} both have an executor. "
                        "At most one Definitions object may have an executor."
                    )
                executor, executor_index = defs.executor, i
        return Definitions(
            assets=[a for d in def_sets for a in d.assets],
            schedules=[s for d in def_sets for s in d.schedules],
            sensors=[s for d in def_sets for s in d.sensors],
            jobs=[j for d in def_sets for j in d.jobs],
            resources=resources,
            executor=executor,
            loggers=loggers,
            asset_checks=[c for d in def_sets for c in d.asset_checks],
            metadata={k: v for d in def_sets for k, v in d.metadata.items()},
        )

    def __repr__(self) -> str:
        return (
            f"<Definitions assets={len(self.assets)} jobs={len(self.jobs)} "
            f"sensors={len(self.sensors)} schedules={len(self.schedules)}>"
        )


class RepositoryDefinition:
    """The resolved view of a ``Definitions`` that sensors, schedules and the daemon use."""

    def __init__(self, definitions: Definitions, resolved: _Resolved):
        self.definitions = definitions
        self._resolved = resolved
        self.name = definitions.name

    def get_job(self, name: str) -> Any:
        return self.definitions.get_job_def(name)

    def has_job(self, name: str) -> bool:
        return name in self._resolved.jobs

    def get_all_jobs(self) -> list[Any]:
        return list(self._resolved.jobs.values())

    @property
    def job_names(self) -> list[str]:
        return list(self._resolved.jobs)

    @property
    def sensor_defs(self) -> list[Any]:
        return list(self._resolved.sensors.values())

    @property
    def schedule_defs(self) -> list[Any]:
        return list(self._resolved.schedules.values())

    def get_sensor_def(self, name: str) -> Any:
        return self.definitions.get_sensor_def(name)

    def get_schedule_def(self, name: str) -> Any:
        return self.definitions.get_schedule_def(name)

    def has_sensor_def(self, name: str) -> bool:
        return name in self._resolved.sensors

    def has_schedule_def(self, name: str) -> bool:
        return name in self._resolved.schedules

    @property
    def asset_graph(self) -> Any:
        return self._resolved.asset_graph

    def get_assets_def(self, key: Any) -> Any:
        return self.definitions.get_assets_def(key)

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.definitions.resources)

    def __repr__(self) -> str:
        return f"<RepositoryDefinition {self.name}>"
