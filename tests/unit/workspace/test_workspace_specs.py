"""Reading -f/-m/workspace.yaml into location specs, and finding a module's definitions."""

from __future__ import annotations

import pytest

from tocsin.errors import ConfigError
from tocsin.workspace.workspace import LocationSpec, load_workspace_yaml, specs_from_options


def test_workspace_yaml_reads_files_and_modules_relative_to_itself(tmp_path):
    (tmp_path / "defs.py").write_text("")
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_file: {relative_path: defs.py, location_name: etl}\n"
        "  - python_module: {module_name: my_pkg.defs, working_directory: .}\n"
    )
    files, modules = load_workspace_yaml(str(tmp_path / "workspace.yaml"))
    assert files == LocationSpec(
        name="etl", python_file=str(tmp_path / "defs.py"), working_directory=str(tmp_path)
    )
    assert (modules.name, modules.module_name) == ("my_pkg.defs", "my_pkg.defs")
    assert LocationSpec.from_json(files.to_json()) == files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("load_from: []", "non-empty list under 'load_from'"),
        ("load_from:\n  - python_fil: {relative_path: x.py}", "'python_file' or 'python_module'"),
        ("load_from:\n  - python_file: {relative_pth: x.py}", "unknown key(s) ['relative_pth']"),
        ("load_from:\n  - python_module: {location_name: x}", "needs 'module_name'"),
        ("load_from:\n  - python_file: {relative_path: missing.py}", "does not exist"),
    ],
)
def test_bad_workspace_yaml_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "workspace.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_workspace_yaml(str(path))
    assert message in str(info.value)


def test_no_location_and_duplicate_names_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="No code location given"):
        specs_from_options()
    (tmp_path / "a.py").write_text("")
    with pytest.raises(ConfigError, match="Two code locations are named 'a'"):
        specs_from_options([str(tmp_path / "a.py"), str(tmp_path / "a.py")])
