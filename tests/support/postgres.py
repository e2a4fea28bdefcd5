"""A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from devstack.moto_server import free_port


def _bindir() -> Path:
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name)
        if found:
            return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL binaries not found: run scripts/ensure-system-packages.sh")
    return Path(candidates[-1]).parent


@dataclass
class PostgresCluster:
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="reframer-pg-")))
    bindir: Path = field(default_factory=_bindir)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/")

    def start(self) -> None:
        self.data_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.data_dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self._pg_ctl_start()

    def _pg_ctl_start(self) -> None:
        # Durability off: a test cluster trades crash safety for speed.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300"
        )
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", log, "-w", "start")

    def execute_admin(self, sql: str) -> None:
        """One statement outside any transaction (CREATE DATABASE and friends), via psql."""
        psql = self.bindir / "psql"
        subprocess.run(
            [str(psql if psql.exists() else "psql"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if self.data_dir.exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    @contextlib.asynccontextmanager
    async def copy_of(self, template: str) -> AsyncIterator[str]:
        """A fresh database cloned from `template` (fast: a file copy), dropped afterwards."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(self.url(driver="postgresql"))
        try:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
            yield self.url(name)
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()

    def restart_after_stop(self) -> None:
        """Start again on the same port and data (for fault-injection tests)."""
        self._pg_ctl_start()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
