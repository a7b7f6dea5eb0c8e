"""One process per output dir: an exclusive lock held for a whole run or publish.

`output_lock(root)` takes `<root>/.synthir/lock` (an OS file lock through `filelock`: the
kernel drops it when the holder exits, however it exits) and writes who holds it to
`<root>/.synthir/lock.json` ({pid, host, command, started}). A second process on the same dir
fails at once with `RunDirBusy` (exit 2) naming the holder's pid and command. A `lock.json`
found by a process that got the lock is stale (its writer died without releasing: SIGKILL,
power loss): it is taken over with a warning naming the dead holder.

Inputs: the output dir and the command line to record. Output: a context manager; on exit
(normal, exception, Ctrl-C) `lock.json` is removed and the lock released.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from synthir.errors import InputError, RunDirBusy
from synthir.io.files import write_json_atomic
from synthir.redact import redact
from synthir.rundir import RunDir

log = logging.getLogger(__name__)


def command_line(argv: list[str] | None = None) -> str:
    """This process's command line as the user typed it (`synthir run ...`, `python -m
    flows.generate ...`), shell-quoted, redacted and cut to 300 characters."""
    argv = list(sys.argv if argv is None else argv) or ["?"]
    prog = Path(argv[0])
    if prog.name == "cli.py" and prog.parent.name == "synthir":
        head = "synthir"
    elif prog.suffix == ".py":
        head = f"python -m {prog.parent.name}.{prog.stem}"
    else:
        head = prog.name
    text = redact(" ".join([head, *(shlex.quote(a) for a in argv[1:])]))
    return text if len(text) <= 300 else text[:299] + "…"


def _read_info(path: Path, wait_s: float = 1.0) -> dict[str, Any] | None:
    """The holder's lock.json; waits up to `wait_s` for a holder that is just writing it."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(info, dict):
                return info
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process (it has not written its pid yet)"
    return (f"pid {info.get('pid')} on {info.get('host')} ({info.get('command')!s}, "
            f"since {info.get('started')})")


def _writable(root: Path) -> None:
    """Create `root/.synthir` if needed; InputError (one line) when the dir cannot be written."""
    base = root / ".synthir"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write to output dir {root}: {exc.strerror or exc} "
                         "(choose a writable --out)") from None
    for d in (root, base):
        if not os.access(d, os.W_OK | os.X_OK):
            raise InputError(f"cannot write to output dir {d}: permission denied (choose a writable --out)")


@contextmanager
def output_lock(root: Path | str, command: str | None = None) -> Iterator[Path]:
    """Hold the exclusive lock of output dir `root` for the body (see module doc); yields the
    lock.json path. Raises RunDirBusy at once when another process holds it, InputError when
    the dir cannot be written."""
    root = Path(root)
    _writable(root)
    run = RunDir(root)
    info_path = run.lock_info
    lock = FileLock(str(run.lock), blocking=False)
    try:
        lock.acquire()
    except Timeout:
        raise RunDirBusy(f"output dir {root} is in use by {_holder(_read_info(info_path))}; "
                         "wait for it to finish or use another --out") from None
    except OSError as exc:
        raise InputError(f"cannot lock output dir {root}: {exc.strerror or exc}") from None
    try:
        stale = _read_info(info_path, wait_s=0)
        if stale:
            pid = stale.get("pid")
            state = "no longer running" if isinstance(pid, int) and not _alive(pid) else "not holding it"
            log.warning("output dir %s: taking over the stale lock of pid %s (%s), %s", root, pid,
                        stale.get("command"), state)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command or command_line(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        write_json_atomic(info_path, me)
        try:
            yield info_path
        finally:
            mine = _read_info(info_path, wait_s=0)
            if mine and mine.get("pid") == os.getpid():
                info_path.unlink(missing_ok=True)
    finally:
        lock.release()
