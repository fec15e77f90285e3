"""``daemon: {lease_seconds: ...}`` in tocsin.yaml."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from tocsin.daemon.presence import lease_setting
from tocsin.errors import ConfigError
from tocsin.instance.config import load_instance_config


def _load(tmp_path, text: str):
    path = tmp_path / "tocsin.yaml"
    path.write_text(text)
    return load_instance_config(path)


def test_lease_seconds_is_read(tmp_path):
    config = _load(tmp_path, "daemon:\n  lease_seconds: 7\n")
    instance = SimpleNamespace(get_settings=lambda key: config.settings().get(key))
    assert lease_setting(instance) == timedelta(seconds=7)


def test_lease_seconds_defaults_to_15(tmp_path):
    config = _load(tmp_path, "sensors:\n  num_workers: 2\n")
    instance = SimpleNamespace(get_settings=lambda key: config.settings().get(key))
    assert lease_setting(instance) == timedelta(seconds=15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daemon:\n  lease_seconds: 0\n", "line 2: 'daemon.lease_seconds' must be a number of"),
        ("daemon:\n  lease_seconds: soon\n", "got str 'soon'. Example: daemon: {lease_seconds"),
        ("daemon:\n  lease_seconds: true\n", "got bool True"),
        ("daemon:\n  lease_secs: 5\n", "unknown key 'lease_secs' under 'daemon'. Did you mean"),
        ("daemon: 5\n", "'daemon' must be a mapping, got int 5"),
    ],
)
def test_bad_lease_seconds_is_refused_with_the_fix(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert expected in str(caught.value)
