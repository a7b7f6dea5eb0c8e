"""synthir.lock in one process: a held dir is refused at once naming the holder, the lock is
released on any exit, a lock.json left by a dead process is taken over with a warning, and an
output dir that cannot be written is one InputError. (Two real processes: tests/reliability.)"""

import json
import os
import subprocess
import sys

import pytest

from synthir.errors import InputError, RunDirBusy
from synthir.lock import command_line, output_lock


def test_held_dir_is_refused_and_released_on_exception(tmp_path):
    with pytest.raises(ValueError):
        with output_lock(tmp_path, command="synthir run a.yaml") as info:
            assert json.loads(info.read_text())["pid"] == os.getpid()
            with pytest.raises(RunDirBusy, match=rf"in use by pid {os.getpid()} .*\(synthir run a.yaml"):
                with output_lock(tmp_path):
                    pass
            raise ValueError("the body failed")
    assert not (tmp_path / ".synthir" / "lock.json").exists()
    with output_lock(tmp_path):  # released: free again
        pass


def test_stale_lock_json_of_a_dead_pid_is_taken_over(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / ".synthir").mkdir()
    (tmp_path / ".synthir" / "lock.json").write_text(json.dumps({"pid": int(dead), "command": "synthir run x"}))
    with caplog.at_level("WARNING"):
        with output_lock(tmp_path):
            pass
    assert f"taking over the stale lock of pid {dead} (synthir run x), no longer running" in caplog.text


def test_unwritable_output_dir_is_one_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    with pytest.raises(InputError, match="cannot write to output dir"):
        with output_lock(blocker / "out"):
            pass


def test_command_line_is_as_typed_and_redacted():
    assert command_line(["/x/site-packages/synthir/cli.py", "run", "c.yaml"]) == "synthir run c.yaml"
    assert command_line(["/repo/flows/generate.py", "c.yaml"]) == "python -m flows.generate c.yaml"
    assert "hf_" not in command_line(["synthir", "--set", "x=hf_" + "a1B2" * 8])
