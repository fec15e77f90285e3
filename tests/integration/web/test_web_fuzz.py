"""Fuzz every route of the OpenAPI document: whatever a client sends, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tocsin import DagsterInstance, Definitions, RunRequest, job, op, sensor
from tocsin.web.app import create_app
from tocsin.workspace.location import InProcessLocation


@op
def fuzz_step() -> int:
    return 1


@job
def fuzz_job() -> None:
    fuzz_step()


@sensor(job=fuzz_job)
def sensors(context: Any) -> Any:  # named like a path segment on purpose
    return RunRequest(run_key=context.cursor or "k")


_instance = DagsterInstance.ephemeral()
_instance.create_run(job_name="fuzz_job")
APP = create_app(
    _instance, [InProcessLocation("fuzz", Definitions(jobs=[fuzz_job], sensors=[sensors]))]
)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _dispose() -> Iterator[None]:
    yield
    _instance.dispose()


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_errors(case: Any) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
