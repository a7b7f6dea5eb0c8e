"""All-or-nothing publish: every publish writes a new version folder beside the old one, then
switches to it with ONE atomic step (a rename of a symlink).

Layout of an output dir (what users load stays `<out>/README.md`, `<out>/data/...`):

    <out>/README.md, funnel.json, data, beir   links -> .synthir/published/current/<name>
    <out>/.synthir/published/current           link  -> v-<time>-<pid>   (the one switch)
    <out>/.synthir/published/v-<time>-<pid>/   one whole published dataset

`new_version(run)` makes an empty version folder to write into. `switch(run, version)` points
`current` at it (`os.replace` of a fresh symlink over the old one: atomic on POSIX), makes sure
the root links exist, then removes every other version (the replaced one, and half-written ones
left by killed publishes). A kill at any instant leaves `current` on the old version or the new
one; each path opened through `<out>` is whole. A dir published by an older synthir (real files
at the root) is adopted once as a version first (hard links, no copy); its real folders are
swapped for links with one `renameat2(RENAME_EXCHANGE)` each (Linux; elsewhere a folder is
moved aside then linked, absent for an instant).

`fault_point(name)`: a test hook; the process SIGKILLs itself there when the environment
variable SYNTHIR_FAULT equals `name` (tests/reliability kill a real publish at every step).
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import time
from pathlib import Path

from synthir.rundir import RunDir

log = logging.getLogger(__name__)
ENTRIES = ("data", "beir", "README.md", "funnel.json")  # README last: it makes a dataset
CURRENT = "current"
FAULT_ENV = "SYNTHIR_FAULT"


def fault_point(name: str) -> None:
    """SIGKILL this process here when $SYNTHIR_FAULT == name (tests only; a no-op otherwise)."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def published_dir(run: RunDir) -> Path:
    """`.synthir/published`: the version folders and the `current` link."""
    return run.published


def published_version(run: RunDir) -> Path | None:
    """The version folder `current` points at (None when nothing was published this way)."""
    cur = published_dir(run) / CURRENT
    return cur.resolve() if cur.is_symlink() and cur.resolve().is_dir() else None


def new_version(run: RunDir) -> Path:
    """A new, empty version folder to write a dataset into (not visible until `switch`)."""
    base = published_dir(run)
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    path.mkdir()
    return path


def _link_target(name: str) -> str:
    return f".synthir/published/{CURRENT}/{name}"


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this kernel / file system cannot
        return False
    raise OSError(err, os.strerror(err), str(a))


def _replace_with_link(root: Path, name: str, target: str, trash: Path) -> None:
    """Make `root/name` a symlink to `target`: one atomic rename for a file or link, one atomic
    exchange for a real folder (older layout; without renameat2 it is moved aside first, so it
    is absent for an instant, never mixed)."""
    path = root / name
    tmp = root / f".{name}.synthir-link"
    _remove(tmp)
    os.symlink(target, tmp)
    if path.is_dir() and not path.is_symlink():
        if exchange(tmp, path):  # now `path` is the link and `tmp` the old folder
            fault_point(f"publish:exchanged-{name}")
            _remove(tmp)
            return
        trash.mkdir(parents=True, exist_ok=True)
        path.rename(trash / name)
        fault_point(f"publish:moved-{name}")
    os.replace(tmp, path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _link_root(run: RunDir) -> None:
    """Point each root entry at `current` (a no-op once the links exist)."""
    for name in ENTRIES:
        path = run.root / name
        if not (path.is_symlink() and os.readlink(path) == _link_target(name)):
            _replace_with_link(run.root, name, _link_target(name), published_dir(run) / ".trash")


def _adopt_legacy(run: RunDir) -> None:
    """Real files at the root (published by an older synthir, or a killed adoption) become a
    version and `current` first (hard links: no data is copied; an entry that is already a
    link is taken from where it points), so the switch to the new dataset stays one step."""
    root = run.root
    if not any((root / n).exists() and not (root / n).is_symlink() for n in ENTRIES):
        return
    log.info("%s: adopting the dataset published by an older synthir as a version", root)
    version = new_version(run)
    for name in ENTRIES:
        src, dst = (root / name).resolve(), version / name
        if src.is_dir():
            shutil.copytree(src, dst, copy_function=os.link)
        elif src.is_file():
            os.link(src, dst)
    _point_current(run, version)
    fault_point("publish:adopted")
    _link_root(run)


def _point_current(run: RunDir, version: Path) -> None:
    base = published_dir(run)
    tmp = base / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(version.name, tmp)
    fault_point("publish:link-made")
    os.replace(tmp, base / CURRENT)  # THE switch: atomic


def switch(run: RunDir, version: Path) -> None:
    """Make the finished `version` the published dataset (see module doc), then clean up."""
    fault_point("publish:written")
    _adopt_legacy(run)
    _point_current(run, version)
    fault_point("publish:switched")
    _link_root(run)
    fault_point("publish:linked")
    clean(run)


def clean(run: RunDir) -> None:
    """Remove every version but the current one, and leftovers of killed or older publishes."""
    base = published_dir(run)
    keep = published_version(run)
    for p in base.iterdir() if base.is_dir() else []:
        if p.name != CURRENT and (keep is None or p.resolve() != keep):
            _remove(p)
    for leftover in (run.base / "publish.tmp", run.base / "publish.old"):  # older synthir's publish
        _remove(leftover)
    for name in ENTRIES:
        _remove(run.root / f".{name}.synthir-link")
