"""Debian packages as a data source: download one `.deb` with `apt-get download` into a cache
dir, once, and unpack it with `dpkg-deb -x`. After the first download everything is offline
and pinned: a `.deb` already in the cache is used as is (drop one there to pin another
version), and its version and sha256 go into the provenance of what is built from it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from synthir.cachedir import cache_root
from synthir.errors import InputError

_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")  # Debian policy 5.6.1


@dataclass(frozen=True)
class Deb:
    """A downloaded and unpacked package: `path` of the .deb, `root` of the unpacked tree."""

    package: str
    version: str
    sha256: str
    path: Path
    root: Path

    def provenance(self) -> dict[str, str]:
        """{"name", "version", "sha256", "file"} for a dev set's devset.json."""
        return {"name": self.package, "version": self.version, "sha256": self.sha256,
                "file": self.path.name}


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise InputError(f"{cmd[0]} not found: fetching Debian packages needs a Debian/Ubuntu "
                         "machine (or put the .deb into the cache dir)") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E:")]
    return (errors or lines or ["no output"])[-1]


def _download(package: str, cache: Path) -> None:
    """`apt-get download PACKAGE` into a temp dir in `cache`, then move the .deb into `cache`
    (an interrupted download leaves no partial .deb). Runs `apt-get update` once when apt
    does not know the package yet."""
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        res = _run(["apt-get", "download", package], cwd=Path(tmp))
        if res.returncode != 0 and "Unable to locate" in res.stderr:
            update = _run(["apt-get", "update"])
            if update.returncode != 0:
                raise InputError(f"cannot download Debian package {package!r}: apt-get update "
                                 f"failed: {_last_line(update.stderr)}")
            res = _run(["apt-get", "download", package], cwd=Path(tmp))
        if res.returncode != 0:
            raise InputError(f"cannot download Debian package {package!r}: "
                             f"{_last_line(res.stderr)}")
        debs = sorted(Path(tmp).glob(f"{package}_*.deb"))
        if not debs:
            raise InputError(f"apt-get download {package} wrote no {package}_*.deb")
        for deb in debs:
            deb.replace(cache / deb.name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_deb(package: str, cache_dir: Path | None = None) -> Deb:
    """Return the unpacked `package`, downloading it first if no `PACKAGE_*.deb` is in
    `cache_dir` (default: `cache_root()/debs`); unpacked trees live in `cache_dir/x/`.

    Raises InputError (one line) for a bad package name, a failed download, several .debs of
    the package in the cache, or a .deb that dpkg-deb cannot read."""
    if not _PACKAGE_NAME.match(package):
        raise InputError(f"not a Debian package name: {package!r}")
    cache = Path(cache_dir) if cache_dir else cache_root() / "debs"
    cache.mkdir(parents=True, exist_ok=True)
    debs = sorted(cache.glob(f"{package}_*.deb"))
    if not debs:
        _download(package, cache)
        debs = sorted(cache.glob(f"{package}_*.deb"))
    if len(debs) > 1:
        raise InputError(f"several .deb files for {package} in {cache} "
                         f"({', '.join(d.name for d in debs)}): keep the one to use")
    deb = debs[0]
    info = _run(["dpkg-deb", "--field", str(deb), "Package", "Version"])
    fields = dict(line.split(": ", 1) for line in info.stdout.splitlines() if ": " in line)
    if info.returncode != 0 or fields.get("Package") != package or "Version" not in fields:
        raise InputError(f"{deb} is not a readable .deb of {package}: {_last_line(info.stderr)}")
    root = cache / "x" / deb.stem
    if not root.is_dir():
        root.parent.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{deb.stem}-"))
        res = _run(["dpkg-deb", "-x", str(deb), str(tmp)])
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise InputError(f"dpkg-deb -x {deb.name} failed: {_last_line(res.stderr)}")
        try:
            tmp.rename(root)
        except OSError:  # another process unpacked it first
            shutil.rmtree(tmp, ignore_errors=True)
    return Deb(package=package, version=fields["Version"], sha256=_sha256(deb), path=deb, root=root)
