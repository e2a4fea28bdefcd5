"""Files the benchmark takes from Debian packages (sample clips and pictures nobody on the
project made): each package is fetched once with `apt-get download` (not installed), and
only the files asked for are kept, in `var/bench/packages/<package>/<path in the package>`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

PACKAGES = Path(__file__).resolve().parent.parent / "var" / "bench" / "packages"


def packaged(package: str, file: str) -> Path:
    """Where `file` (its path inside `package`) is kept once fetched."""
    return PACKAGES / package / file


def fetch(wanted: Iterable[tuple[str, str]]) -> list[str]:
    """Fetch the (package, file) pairs not yet kept; what could not be fetched (no apt-get,
    no network), one line per package. Those files stay missing."""
    missing = [(p, f) for p, f in wanted if not packaged(p, f).exists()]
    problems = []
    for package in sorted({p for p, _ in missing}):
        with tempfile.TemporaryDirectory(prefix="reframer-package-") as scratch:
            try:
                _download(package, scratch)
                archive = next(Path(scratch).glob("*.deb"))
                unpacked = Path(scratch) / "unpacked"
                subprocess.run(["dpkg-deb", "-x", str(archive), str(unpacked)], check=True)
            except (OSError, subprocess.CalledProcessError, StopIteration) as error:
                detail = getattr(error, "stderr", None) or error
                problems.append(f"{package}: not fetched ({str(detail).strip()[:200]})")
                continue
            # Only the files asked for are kept (opencv-doc unpacks to 300 MB of documentation).
            for file in (f for p, f in missing if p == package):
                target = packaged(package, file)
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(target.name + ".part")
                shutil.copyfile(unpacked / file, part)
                part.rename(target)
    return problems


def _download(package: str, folder: str) -> None:
    """apt-get download, after refreshing the package lists once if it failed and may (a
    fresh machine has none)."""
    command = ["apt-get", "download", package]
    try:
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError:
        if os.geteuid() != 0:
            raise
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, text=True)
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)
