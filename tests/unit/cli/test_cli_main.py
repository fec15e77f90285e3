"""The CLI entry point: lazy subcommands, clear errors for bad locations and names."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from tocsin.cli.main import cli


def test_help_lists_commands_without_importing_them():
    code = (
        "import sys\nfrom tocsin.cli.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('tocsin.') and 'cli' not in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "sensor" in out.stdout and "daemon" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_definitions_file_that_raises_shows_its_traceback_and_exits_1(tmp_path):
    path = tmp_path / "defs.py"
    path.write_text("raise RuntimeError('cannot import this')\n")
    result = CliRunner().invoke(cli, ["sensor", "preview", "x", "-f", str(path)])
    assert result.exit_code == 1
    assert "RuntimeError: cannot import this" in result.output
    assert "Traceback" in result.output or "line 1" in result.output


def test_no_location_is_a_usage_error():
    result = CliRunner().invoke(cli, ["sensor", "preview", "x"])
    assert result.exit_code == 2
    assert "No code location given" in result.output


def test_unknown_sensor_name_suggests_the_closest(tmp_path):
    path = tmp_path / "defs.py"
    path.write_text(
        "from tocsin import sensor, RunRequest\n\n"
        "@sensor(job_name='j')\ndef watch_dir(context):\n    return None\n"
    )
    result = CliRunner().invoke(cli, ["sensor", "preview", "watch_dri", "-f", str(path)])
    assert result.exit_code == 1, result.output
    assert "Did you mean 'watch_dir'?" in result.output
