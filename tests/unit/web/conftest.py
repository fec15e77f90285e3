from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tocsin import DagsterInstance, Definitions, RunRequest, SkipReason, job, op, schedule, sensor
from tocsin.web.app import create_app
from tocsin.workspace.location import InProcessLocation


@op
def hello() -> int:
    return 1


@job
def hello_job() -> None:
    hello()


@sensor(job=hello_job, minimum_interval_seconds=10, wake_on=["upload", "raw/orders"])
def watch(context: Any) -> Any:
    context.log.info("looking")
    if context.cursor == "skip":
        return SkipReason("nothing new")
    context.update_cursor("seen-1")
    return [RunRequest(run_key="k1"), RunRequest(run_key="k2")]


@sensor(job=hello_job)
def broken(context: Any) -> Any:
    raise ValueError("the bucket is gone")


@schedule(job=hello_job, cron_schedule="30 2 * * *", execution_timezone="Europe/Berlin")
def nightly(context: Any) -> Any:
    return RunRequest()


DEFS = Definitions(jobs=[hello_job], sensors=[watch, broken], schedules=[nightly])


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def location() -> InProcessLocation:
    return InProcessLocation("loc", DEFS)


@pytest.fixture
def app(instance: DagsterInstance, location: InProcessLocation) -> Any:
    return create_app(instance, [location])


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
