"""PostgreSQL and Redis instances of the test's own, from the Debian binaries.

The failure tests stop and restart their stores; the machine's shared PostgreSQL and
Redis must never be touched, so each run gets a fresh cluster (``initdb``) and a Redis
server in a temporary directory, on free loopback ports. PostgreSQL refuses to run as
root: as root, the cluster belongs to the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.netutil import reachable, stable_ports


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def available() -> str | None:
    """Why the stores cannot be started here (None: they can)."""
    if not _pg_bin("initdb") or not _pg_bin("pg_ctl"):
        return "PostgreSQL server binaries missing (scripts/setup-nginx.sh installs them)"
    if not shutil.which("redis-server"):
        return "redis-server missing (scripts/setup-nginx.sh installs it)"
    return None


class OwnPostgres:
    def __init__(self, root: Path) -> None:
        # As root, the cluster's owner must reach its folder: pytest's tmp tree is 700,
        # so the cluster gets a folder of its own under the system temp dir.
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        self.dir = Path(tempfile.mkdtemp(prefix="yiwen-pg-")) if self.user else root / "pg"
        self.port = stable_ports()

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        done = self._run(
            _pg_bin("initdb") or "initdb",
            "-D",
            str(self.dir / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        assert done.returncode == 0, done.stderr
        self.start()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._run(
            _pg_bin("pg_ctl") or "pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        assert done.returncode == 0, done.stderr + done.stdout

    def stop(self) -> None:
        self._run(
            _pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')


class OwnRedis:
    def __init__(self, root: Path) -> None:
        self.dir = root / "redis"
        self.port = stable_ports()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=(self.dir / "log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 20
        while not reachable("127.0.0.1", self.port):
            assert time.time() < deadline, "redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"
