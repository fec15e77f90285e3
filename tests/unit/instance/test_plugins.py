from __future__ import annotations

import sys
import types

import pytest

from tocsin.errors import ConfigError
from tocsin.instance.instance import DagsterInstance
from tocsin.serdes import ConfigurableClass, ConfigurableClassData


class MyLauncher(ConfigurableClass):
    def __init__(self, magic_word: str, inst_data=None):
        self.magic_word = magic_word
        self._inst_data = inst_data
        self.launched: list[str] = []

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def launch_run(self, instance, run):
        self.launched.append(run.run_id)


class NotPluggable:
    pass


@pytest.fixture
def plugin_module():
    module = types.ModuleType("tocsin_test_plugins")
    module.MyLauncher = MyLauncher  # type: ignore[attr-defined]
    module.NotPluggable = NotPluggable  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_rehydrate_builds_the_class_with_its_config(plugin_module):
    data = ConfigurableClassData(plugin_module, "MyLauncher", "magic_word: quux\n")
    launcher = data.rehydrate()
    assert launcher.magic_word == "quux" and launcher.inst_data is data


def test_a_user_launcher_is_used_by_launch_run(plugin_module, tmp_path):
    (tmp_path / "tocsin.yaml").write_text(
        f"run_launcher:\n  module: {plugin_module}\n  class: MyLauncher\n"
        "  config:\n    magic_word: hi\n"
    )
    with DagsterInstance.from_config(tmp_path) as instance:
        run = instance.create_run(job_name="j")
        instance.launch_run(run.run_id)
        assert instance.run_launcher.launched == [run.run_id]


def test_a_class_that_is_not_configurable_is_refused(plugin_module):
    with pytest.raises(ConfigError, match="NotPluggable is not a ConfigurableClass"):
        ConfigurableClassData(plugin_module, "NotPluggable", {}).rehydrate()


def test_a_store_plugin_of_the_wrong_kind_is_refused(plugin_module, tmp_path):
    (tmp_path / "tocsin.yaml").write_text(
        f"run_storage:\n  module: {plugin_module}\n  class: MyLauncher\n"
        "  config: {magic_word: x}\n"
    )
    with pytest.raises(
        ConfigError, match=r"run_storage: .*MyLauncher built a MyLauncher, which is not a RunStore"
    ):
        DagsterInstance.from_config(tmp_path)


def test_rehydrate_checks_the_type_asked_for(plugin_module):
    data = ConfigurableClassData(plugin_module, "MyLauncher", {"magic_word": "x"})
    with pytest.raises(ConfigError, match="not a int"):
        data.rehydrate(as_type=int)


def test_builtin_components_reject_unknown_config_keys():
    data = ConfigurableClassData(
        "tocsin.core.run_coordinator", "QueuedRunCoordinator", {"max_runs": 3}
    )
    with pytest.raises(ConfigError, match="unknown config key 'max_runs'"):
        data.rehydrate()


def test_postgres_storage_needs_one_location():
    data = ConfigurableClassData("tocsin.core.storage.postgres", "PostgresRunStorage", {})
    with pytest.raises(ConfigError, match="exactly one of 'postgres_url' or 'postgres_db'"):
        data.rehydrate()


def test_split_databases_for_runs_and_ticks_are_refused(tmp_path):
    (tmp_path / "tocsin.yaml").write_text(
        "run_storage:\n  module: tocsin.core.storage.runs\n  class: SqliteRunStorage\n"
        f"  config: {{base_dir: {tmp_path / 'a'}}}\n"
        "schedule_storage:\n  module: tocsin.core.storage.schedules\n"
        "  class: SqliteScheduleStorage\n"
        f"  config: {{base_dir: {tmp_path / 'b'}}}\n"
    )
    with pytest.raises(ConfigError, match="must share one"):
        DagsterInstance.from_config(tmp_path)


def test_postgres_names_are_one_class():
    from tocsin.core.storage import postgres

    assert (
        postgres.PostgresRunStorage is postgres.PostgresEventLogStorage is postgres.PostgresStorage
    )
