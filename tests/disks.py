"""Tiny file systems for storage-failure tests: a tmpfs that fills up, or turns read-only.

SQLite's ``max_page_count`` fills a database portably, but only inside the process that
set it; a command run through its real entry point needs a real small disk, and a real
read-only file system is the only honest way to see what SQLite reports for one. Both
need root (or ``CAP_SYS_ADMIN``), as in CI; without it the tests fail with the reason,
they never skip.

Each disk is mounted under the test's own ``tmp_path`` and unmounted when the test ends,
also when it fails.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["Disk", "fill", "small_disk"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"the storage-failure tests need {name!r} on PATH", pytrace=False)
    return found


def _mount(*args: str) -> None:
    proc = subprocess.run([_tool("mount"), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(
            f"mount {' '.join(args)} failed ({proc.stderr.strip()}): the storage-failure "
            "tests need root or CAP_SYS_ADMIN to mount a small tmpfs",
            pytrace=False,
        )


class Disk:
    """A mounted tmpfs.

    Args:
        root: Its mount point.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def resize(self, size_kb: int) -> None:
        """Grow (or shrink) it: "free space" as an operator would."""
        _mount("-o", f"remount,size={size_kb}k", str(self.root))

    def read_only(self) -> None:
        """Remount it read-only (every file on it must be closed)."""
        _mount("-o", "remount,ro", str(self.root))

    def writable(self) -> None:
        """Remount it read-write."""
        _mount("-o", "remount,rw", str(self.root))


@contextmanager
def small_disk(where: Path, size_kb: int) -> Iterator[Disk]:
    """Mount a tmpfs of ``size_kb`` KiB at ``where`` (created) for the block's length.

    Args:
        where: The mount point, inside the test's ``tmp_path``.
        size_kb: Its size.

    Yields:
        The disk.
    """
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "smsbridge-test", str(where))
    try:
        yield Disk(where)
    finally:
        # A child that is still exiting may hold a file open a moment longer: detach
        # lazily then, so no mount outlives the test.
        umount = _tool("umount")
        done = subprocess.run([umount, str(where)], capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run([umount, "-l", str(where)], capture_output=True, check=False)


def fill(path: Path) -> None:
    """Write zeros to ``path`` until its file system has no space left."""
    with path.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
