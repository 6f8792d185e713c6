"""Environment configuration, read once at start-up.

Every knob is an environment variable with a safe default so that `make run` works on a fresh
machine with nothing set. README lists each one; keep that table and this module in step.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def var_dir() -> Path:
    """Where the embedded default keeps its database, key files, broker queue and uploads."""
    path = Path(env_str("CARELEDGER_VAR_DIR", str(Path.cwd() / "var"))).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_file(path: Path, nbytes: int = 48) -> str:
    """Return the secret stored in `path`, creating it with mode 0600 on first use."""
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
    return path.read_text().strip()
