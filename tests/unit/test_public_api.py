"""The public API is pinned: a new or removed name shows up here as a one-line diff."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import tocsin

PINNED = Path(__file__).with_name("public_api.txt")


def test_exports_match_pinned_list() -> None:
    pinned = [line.strip() for line in PINNED.read_text().splitlines() if line.strip()]
    assert sorted(tocsin.__all__) == pinned


@pytest.mark.parametrize("name", tocsin.__all__)
def test_every_export_resolves(name: str) -> None:
    module = importlib.import_module(tocsin._EXPORTS[name])
    assert getattr(module, name) is getattr(tocsin, name)


def test_import_is_lazy() -> None:
    code = (
        "import sys, tocsin; print(sorted(m for m in sys.modules"
        " if m.startswith(('sqlalchemy', 'pydantic', 'tocsin.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
