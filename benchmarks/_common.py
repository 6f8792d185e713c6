"""What the benchmarks share: a throwaway database for each run, SQLite or PostgreSQL.

Each benchmark runs its measurements in a child process (a fresh Django per database) with the
environment `throwaway_env` gives: a new master key, a temporary var folder and, for PostgreSQL,
a database of its own, all removed afterwards.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def postgres_url() -> str | None:
    """BENCH_POSTGRES_URL, else the local server if one answers on 127.0.0.1:5432."""
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        return url
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False)
    return "postgres://postgres@127.0.0.1:5432/postgres" if probe.returncode == 0 else None


@contextmanager
def throwaway_env(leg: str, dbname: str) -> Iterator[dict[str, str] | None]:
    """The environment for a child run on a fresh database (`leg` "sqlite" or "postgres";
    `dbname` names the PostgreSQL database to create). None when PostgreSQL is asked for and
    none answers. On exit the temporary folder (SQLite's file can be ~1 GB) and the database
    are removed."""
    base = None
    if leg != "sqlite":
        base = postgres_url()
        if base is None:
            print("[postgres] skipped: no PostgreSQL on 127.0.0.1:5432")
            yield None
            return
    env = dict(os.environ)
    env["CARELEDGER_MASTER_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env["CARELEDGER_VAR_DIR"] = tempfile.mkdtemp(prefix="careledger-bench-")
    created = False
    try:
        if base is None:
            env.pop("DATABASE_URL", None)
        else:
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
            created = True
            env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + dbname
        yield env
    finally:
        shutil.rmtree(env["CARELEDGER_VAR_DIR"], ignore_errors=True)
        if created:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=False)
