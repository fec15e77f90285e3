"""Ids in API paths: any run of digits is answered (404 past the largest id), never a 500,
however many digits it has (Python's int() refuses more than 4300)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tocsin.web.api import MAX_ID, IdConvertor


@pytest.mark.parametrize("digits", ["9" * 5000, str(MAX_ID + 1), "99999999999999999999"])
def test_ids_past_the_largest_are_404(client: TestClient, digits: str) -> None:
    for url, what in (
        (f"/api/v1/events/{digits}", "storage id"),
        (f"/api/v1/sensors/watch/ticks/{digits}", "tick id"),
    ):
        response = client.get(url)
        assert response.status_code == 404, response.text[:200]
        assert response.json()["error"] == f"No {what} that large: ids stop at {MAX_ID}."


def test_leading_zeros_are_the_same_id(client: TestClient) -> None:
    response = client.get("/api/v1/events/" + "0" * 5000 + "7")
    assert response.status_code == 404
    assert response.json()["error"] == "No pushed event with storage id 7."
    assert client.get("/api/v1/sensors/watch/ticks/" + "0" * 5000 + "7").json()["error"] == (
        "No tick with id 7."
    )


def test_id_convertor_reads_digits() -> None:
    convertor = IdConvertor()
    assert convertor.convert("0") == 0
    assert convertor.convert("000123") == 123
    assert convertor.convert(str(MAX_ID)) == MAX_ID
    assert convertor.convert("9" * 5000) == MAX_ID + 1
    assert convertor.to_string(42) == "42"
