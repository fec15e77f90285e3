from __future__ import annotations

import re

import pytest

from tocsin.automation.schedule import ScheduleDefinition
from tocsin.automation.sensor import SensorDefinition
from tocsin.definitions.asset import asset
from tocsin.definitions.asset_job import define_asset_job
from tocsin.definitions.definitions import Definitions
from tocsin.definitions.job import job
from tocsin.definitions.op import op
from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.model.asset_key import AssetKey


def Schedule(name, job_name):
    return ScheduleDefinition(name=name, cron_schedule="0 0 * * *", job_name=job_name)


def exact(message):
    return "^" + re.escape(message) + "$"


@op
def noop():
    return 1


@job
def plain_job():
    noop()


@asset
def a():
    return 1


@asset
def b(a):
    return a


def sensor_for(name, **target):
    return SensorDefinition(name, evaluation_fn=lambda: None, **target)


def test_lookups_and_resolution():
    asset_job = define_asset_job("asset_job", "*")
    s = sensor_for("s", job=asset_job)
    defs = Definitions(
        assets=[a, b],
        jobs=[plain_job, asset_job],
        sensors=[s],
        schedules=[Schedule("sched", "plain_job")],
    )
    resolved = defs.get_job_def("asset_job")
    assert [n.handle for n in resolved.nodes_in_topological_order] == ["a", "b"]
    assert defs.get_job_def("plain_job").name == "plain_job"
    assert {j.name for j in defs.get_all_job_defs()} == {"plain_job", "asset_job"}
    assert defs.get_sensor_def("s") is s
    assert defs.get_schedule_def("sched").name == "sched"
    assert defs.get_assets_def("b") is b
    assert defs.get_assets_def(AssetKey("a")) is a
    assert defs.get_asset_graph().materializable_asset_keys == {AssetKey("a"), AssetKey("b")}
    assert defs.resolve_all_asset_keys() == [AssetKey("a"), AssetKey("b")]


def test_missing_lookups_say_what_exists():
    defs = Definitions(jobs=[plain_job], sensors=[sensor_for("s", job_name="plain_job")])
    with pytest.raises(
        DagsterInvariantViolationError,
        match=exact("Could not find job 'nope'. Found: 'plain_job'."),
    ):
        defs.get_job_def("nope")
    with pytest.raises(
        DagsterInvariantViolationError, match=exact("Could not find sensor 'nope'. Found: 's'.")
    ):
        defs.get_sensor_def("nope")
    with pytest.raises(
        DagsterInvariantViolationError, match=r"Could not find schedule 'nope'. Found: \."
    ):
        defs.get_schedule_def("nope")
    with pytest.raises(
        DagsterInvariantViolationError, match=r"Could not find asset AssetKey\(\['nope'\]\)"
    ):
        defs.get_assets_def("nope")


def test_job_targeted_only_by_a_sensor_is_included():
    defs = Definitions(sensors=[sensor_for("s", job=plain_job)])
    assert defs.get_job_def("plain_job").name == "plain_job"


def test_asset_job_targeted_only_by_a_sensor_is_resolved():
    defs = Definitions(assets=[a], sensors=[sensor_for("s", job=define_asset_job("aj"))])
    assert defs.get_job_def("aj").has_op("a")


def test_sensor_with_asset_selection_gets_an_anonymous_job():
    defs = Definitions(assets=[a, b], sensors=[sensor_for("watch", asset_selection=["b"])])
    assert defs.get_job_def("__anonymous_asset_job_watch").has_op("b")


def test_duplicate_sensor_and_schedule_names():
    with pytest.raises(
        DagsterInvalidDefinitionError, match=exact("Duplicate definition found for s")
    ):
        Definitions(
            jobs=[plain_job],
            sensors=[sensor_for("s", job_name="plain_job")],
            schedules=[Schedule("s", "plain_job")],
        ).get_repository_def()
    with pytest.raises(
        DagsterInvalidDefinitionError, match=exact("Duplicate definition found for s")
    ):
        Definitions(
            jobs=[plain_job],
            sensors=[sensor_for("s", job_name="plain_job"), sensor_for("s", job_name="plain_job")],
        ).get_repository_def()


def test_same_sensor_twice_is_fine():
    s = sensor_for("s", job=plain_job)
    assert Definitions(sensors=[s, s]).get_sensor_def("s") is s


def test_duplicate_jobs():
    @job(name="plain_job")
    def other():
        noop()

    with pytest.raises(
        DagsterInvalidDefinitionError, match="Duplicate job definition found for job 'plain_job'"
    ):
        Definitions(jobs=[plain_job, other]).get_repository_def()
    with pytest.raises(
        DagsterInvalidDefinitionError, match="Duplicate definition found for unresolved job 'j'"
    ):
        Definitions(jobs=[define_asset_job("j"), define_asset_job("j")]).get_repository_def()


def test_duplicate_asset_keys():
    @asset(name="a")
    def a_again():
        return 2

    with pytest.raises(
        DagsterInvalidDefinitionError, match=r"Duplicate asset key: AssetKey\(\['a'\]\)"
    ):
        Definitions(assets=[a, a_again]).get_repository_def()
    # The same definition listed twice is not a duplicate.
    Definitions.validate_loadable(Definitions(assets=[a, a]))


def test_targets_must_exist():
    with pytest.raises(
        DagsterInvalidDefinitionError,
        match=exact(
            'SensorDefinition "a" targets job "missing" which was not found in this repository.'
        ),
    ):
        Definitions(sensors=[sensor_for("a", job_name="missing")]).get_repository_def()
    with pytest.raises(
        DagsterInvalidDefinitionError,
        match=exact(
            'ScheduleDefinition "nightly" targets job "missing" which was not found in this '
            "repository."
        ),
    ):
        Definitions(schedules=[Schedule("nightly", "missing")]).get_repository_def()


def test_construction_is_lazy_and_type_checked():
    Definitions(sensors=[sensor_for("a", job_name="missing")])  # no error until resolved
    with pytest.raises(DagsterInvalidDefinitionError, match="Definitions jobs must be a list"):
        Definitions(jobs=plain_job)
    with pytest.raises(DagsterInvalidDefinitionError, match="resources must be a dict"):
        Definitions(resources=[1])
    with pytest.raises(DagsterInvalidDefinitionError, match="Definitions jobs must be jobs"):
        Definitions(jobs=["plain_job"]).get_repository_def()
    with pytest.raises(DagsterInvalidDefinitionError, match="Expected an asset"):
        Definitions(assets=[plain_job]).get_repository_def()


def test_top_level_resources_bind_but_job_resources_win():
    @job(resource_defs={"shared": "job"})
    def with_own():
        noop()

    defs = Definitions(
        assets=[a],
        jobs=[plain_job, with_own, define_asset_job("aj")],
        resources={"shared": "top", "extra": "top"},
    )
    assert defs.get_job_def("plain_job").resource_defs.keys() >= {"shared", "extra"}
    own = defs.get_job_def("with_own").resource_defs
    assert own["shared"] is not defs.get_job_def("plain_job").resource_defs["shared"]
    assert "extra" in defs.get_job_def("aj").resource_defs


def test_executor_default_and_loggers():
    marker, mine = object(), object()

    @job(executor_def=mine)
    def explicit():
        noop()

    loggers = {"console": object()}
    defs = Definitions(jobs=[plain_job, explicit], executor=marker, loggers=loggers)
    assert defs.get_job_def("plain_job").executor_def is marker
    assert defs.get_job_def("explicit").executor_def is mine
    assert defs.get_job_def("plain_job").logger_defs == loggers


def test_repository_def_view():
    s = sensor_for("s", job=plain_job)
    repo = Definitions(assets=[a], sensors=[s]).get_repository_def()
    assert repo.name == "__repository__"
    assert repo.has_job("plain_job")
    assert repo.get_job("plain_job").name == "plain_job"
    assert repo.sensor_defs == [s]
    assert repo.has_sensor_def("s")
    assert repo.get_assets_def("a") is a
    assert repo.asset_graph.has(AssetKey("a"))


def test_implicit_global_asset_job():
    defs = Definitions(assets=[a, b])
    assert defs.get_job_def("__ASSET_JOB").has_op("b")


def test_merge():
    s = sensor_for("s", job=plain_job)
    merged = Definitions.merge(
        Definitions(assets=[a], resources={"r": 1}),
        Definitions(assets=[b], sensors=[s], resources={"r2": 2}),
    )
    assert merged.get_sensor_def("s") is s
    assert merged.get_assets_def("b") is b
    assert merged.resources == {"r": 1, "r2": 2}
    with pytest.raises(DagsterInvalidDefinitionError, match="different resources for key 'r'"):
        Definitions.merge(Definitions(resources={"r": "x"}), Definitions(resources={"r": "y"}))
    with pytest.raises(DagsterInvalidDefinitionError, match="both have an executor"):
        Definitions.merge(Definitions(executor=object()), Definitions(executor=object()))
    with pytest.raises(DagsterInvalidDefinitionError, match="takes Definitions objects"):
        Definitions.merge(Definitions(), 3)  # type: ignore[arg-type]
