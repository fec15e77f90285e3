from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.errors import CheckError
from tocsin.storage.compute_logs import LocalComputeLogs


def test_write_and_read_whole_or_from_an_offset(tmp_path):
    logs = LocalComputeLogs(tmp_path)
    logs.write("run-1", "my_op", "stdout", "hello\n")
    logs.write("run-1", "my_op", "stdout", "wörld\n")
    logs.write("run-1", "my_op", "stderr", "oops\n")
    text, offset = logs.read("run-1", "my_op", "stdout")
    assert text == "hello\nwörld\n" and offset == len("hello\nwörld\n".encode())
    assert logs.read("run-1", "my_op", "stdout", offset=6) == ("wörld\n", offset)
    assert logs.read("run-1", "my_op", "stdout", offset=offset) == ("", offset)
    assert logs.read("run-1", "my_op", "stderr")[0] == "oops\n"
    assert logs.read("run-1", "other", "stdout") == ("", 0)
    assert logs.log_path("run-1", "my_op", "stdout").startswith(str(tmp_path))
    logs.delete_logs("run-1")
    assert logs.read("run-1", "my_op", "stdout") == ("", 0)


def test_step_keys_cannot_escape_the_base_dir(tmp_path):
    logs = LocalComputeLogs(tmp_path)
    for run_id, step in [("..", "../../etc/passwd"), ("../x", "a/b"), (".", "..")]:
        path = Path(logs.log_path(run_id, step, "stdout")).resolve()
        assert path.parent.parent == tmp_path.resolve()


def test_bad_io_type(tmp_path):
    with pytest.raises(CheckError, match="'stdout' or 'stderr', got 'stdin'"):
        LocalComputeLogs(tmp_path).log_path("r", "s", "stdin")
