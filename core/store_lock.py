"""One process at a time on an embedded Chroma data dir, enforced with a lock file.

Measured with chromadb 1.5 (tests/test_store_lock.py): a process keeps the vector (HNSW) index of an embedded
store in memory from the moment it opens it, and never reloads it. Another process's writes reach the shared
SQLite file, so `get` and `count` see them, but dense search in the first process never does: a new release is
listed yet never retrieved, and an overwritten chunk is still ranked by its old vector. Two `pressqa serve`
(or a serve and a `pressqa ingest`) on one data dir therefore drift apart silently. So the first process to
open the store holds an exclusive `flock` on `<data>/chroma.lock`, and any other gets DataDirInUse, whose
message names the holder and the way to share a store: a Chroma server and PRESSQA_CHROMA_URL.

The kernel drops a flock when its holder exits or is killed, so a stale lock file never blocks a restart. Within
one process every store on the same dir shares one hold, released when the last of them is garbage.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock, as before
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "chroma.lock"


class DataDirInUse(RuntimeError):
    """Another process has this embedded data dir open."""


class DataDirHold:
    """An open, flock-ed lock file; closing it (or this process ending) releases the lock."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.release()


_holds: weakref.WeakValueDictionary[str, DataDirHold] = weakref.WeakValueDictionary()
_holds_guard = threading.Lock()


def hold_data_dir(data: Path) -> DataDirHold | None:
    """Take (or share, within this process) the data dir's lock; DataDirInUse when another process has it."""
    if fcntl is None:
        return None
    data.mkdir(parents=True, exist_ok=True)
    path = (data / LOCK_NAME).resolve()
    with _holds_guard:
        held = _holds.get(str(path))
        if held is not None:
            return held
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DataDirInUse(in_use_message(data, holder)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {' '.join(sys.argv)[:500]}\n".encode())
        hold = DataDirHold(path, fd)
        _holds[str(path)] = hold
        return hold


def in_use_message(data: Path, holder: str) -> str:
    return (
        f"The embedded store in {data} is already open in another process ({holder or 'pid unknown'}). "
        "Chroma's embedded store serves one process: a second one would never see the first one's writes in its "
        "vector index. Stop the other process, or send uploads through its API (POST /api/releases), or share one "
        "store between processes with a Chroma server: `chroma run --path DIR --port 8001` and "
        "PRESSQA_CHROMA_URL=http://127.0.0.1:8001 for every pressqa process."
    )


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 600, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
