"""Open input files safely: only regular files, only inside the repository, only a bounded number of bytes.

Someone editing csv/ by hand or by script can leave a directory, a named pipe (which blocks
whoever opens it), a device or a symbolic link to /dev/zero where a CSV should be. Every
read of an input goes through here, so each of those is refused with one sentence instead
of a hang, a memory blow-up or a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Far above any real table (bench/ scale 1000 is 800 MB for all tables together), far below memory.
MAX_BYTES = 1 << 30
CHUNK = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "is a directory, not a file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a file"),
    (stat.S_ISCHR, "is a character device, not a file"),
    (stat.S_ISBLK, "is a block device, not a file"),
    (stat.S_ISSOCK, "is a socket, not a file"),
)


class UnreadableInput(OSError):
    """The input cannot be read safely; str() is the reason, for a `file:line: (file): reason` message."""


def _outside(path: Path, root: Path) -> str | None:
    try:
        real = path.resolve(strict=False)
        base = root.resolve(strict=False)
    except (OSError, RuntimeError):
        return "is a symbolic link that loops; replace it by the file itself"
    if real == base or base in real.parents:
        return None
    shown = os.readlink(path) if path.is_symlink() else str(real)
    return (f"leads outside the repository (to {shown}); put the file itself here, "
            "not a symbolic link to somewhere else")


def _refusal(error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return "file is missing"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied; make the file readable (chmod a+r)"
    if error.errno == errno.ELOOP:
        return "is a symbolic link that loops; replace it by the file itself"
    return f"cannot be read: {error.strerror or error}"


@contextmanager
def open_input(path: Path, root: Path | None = None, limit: int = MAX_BYTES) -> Iterator[BinaryIO]:
    """A binary file object for `path`, or UnreadableInput. With `root`, the real path must lie inside it.

    O_NONBLOCK makes opening a named pipe return at once instead of waiting for a writer;
    the type is then checked on the open descriptor, so what is checked is what is read.
    """
    if root is not None:
        reason = _outside(path, root)
        if reason:
            raise UnreadableInput(reason)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise UnreadableInput(_refusal(error)) from None
    try:
        info = os.fstat(fd)
        for test, reason in _KINDS:
            if test(info.st_mode):
                raise UnreadableInput(reason)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableInput("is not a regular file")
        if info.st_size > limit:
            raise UnreadableInput(f"file is {info.st_size:,} bytes, more than the {limit:,} the loader reads; "
                                  "check that it is the right file")
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_input(path: Path, root: Path | None = None, limit: int = MAX_BYTES) -> bytes:
    """All bytes of `path` (at most `limit`; a file that grows past it while read is refused)."""
    data = bytearray()
    with open_input(path, root, limit) as f:
        try:
            # In chunks: read(limit + 1) would set aside the whole limit in memory first.
            while chunk := f.read(CHUNK):
                data += chunk
                if len(data) > limit:
                    raise UnreadableInput(f"file grew past {limit:,} bytes while it was read; "
                                          "check that it is the right file")
        except UnreadableInput:
            raise
        except OSError as error:
            raise UnreadableInput(_refusal(error)) from None
    return bytes(data)
