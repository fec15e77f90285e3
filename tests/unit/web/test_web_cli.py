from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from tocsin.web.cli import web_command


def test_web_refuses_public_host_without_token(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path))
    result = CliRunner().invoke(web_command, ["--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "Refusing to serve the tocsin web UI on '0.0.0.0' without a token" in result.output
