"""Value files: the large entries of an SQLiteStore, one file each, in a folder beside the database.

An entry of ``file_threshold`` bytes or more is kept in a file of the folder
``<path>-values``, named by 32 random hex digits, and its row holds the name
(SQLite reads a large value through its own small pages and buffers, and its
WAL carries every byte twice; a file is one ``read``). The folder is made
when the first such entry is written.

* A file is written under a temporary name (``<name>.tmp``) with vectored
  writes of the entry's parts (nothing is joined into one string), then
  renamed into place *inside* the transaction that commits its row, so it is
  whole before any row names it.
* Files are never changed once named: an overwrite writes a new file, and a
  removed value's file is deleted after the removal commits.
* Only names of that form are read or deleted, so a name taken from an
  altered database never leads outside the folder.
* New files get the store's ``file_mode`` (owner-only by default) and a new
  folder the matching directory mode, both less the process's umask.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable

from memokit.stores._codec import BadEntry, Data

__all__ = [
    "FILE_MODE",
    "FILE_THRESHOLD",
    "TMP",
    "ValueFiles",
    "check_file_mode",
    "check_file_threshold",
    "directory_mode",
    "write_all",
]

#: Entries of this many bytes or more go to files, unless file_threshold= says otherwise.
FILE_THRESHOLD = 256 * 1024
#: The mode of new database and value files unless file_mode= says otherwise: owner only.
FILE_MODE = 0o600
TMP = ".tmp"
# Value files are named by 32 random hex digits; only such names are ever
# read or deleted.
_NAME = re.compile(r"[0-9a-f]{32}")
# A .tmp file this old (seconds since its last write) belongs to a writer
# that died: a live one renames it within its lock timeout.
_TMP_GRACE = 3600.0
# A thread keeps a read buffer for the data of signed entries up to this size.
_SCRATCH_MAX = 4 * 1024 * 1024
# writev takes at most IOV_MAX (1024 on Linux) buffers per call.
_IOV_MAX = 1024


def check_file_threshold(value: object) -> int | None:
    """Return ``value`` if it is a number of bytes >= 0 or ``None``, else raise ValueError."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(
            f"SQLiteStore(file_threshold=...) takes a number of bytes >= 0 (entries that large "
            f"go to files), or None to keep every entry in the database; got {value!r}"
        )
    return value


def check_file_mode(value: object) -> int:
    """Return ``value`` if it is a file mode that lets the owner read and write, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o777:
        raise TypeError(
            f"SQLiteStore(file_mode=...) takes permission bits as an int such as 0o600, "
            f"got {value!r}"
        )
    if value & 0o600 != 0o600:
        raise ValueError(
            f"SQLiteStore(file_mode=...) must let the owner read and write (0o600), got "
            f"{value:#o}: SQLite could not use the file"
        )
    return value


def directory_mode(file_mode: int) -> int:
    """Return the mode for a folder of files of ``file_mode``: search allowed where reading is.

    >>> oct(directory_mode(0o600)), oct(directory_mode(0o644))
    ('0o700', '0o755')
    """
    return file_mode | (file_mode & 0o444) >> 2


def write_all(fd: int, head: bytes, parts: list[Data]) -> None:
    """Write ``head`` then the parts to ``fd``, with as few system calls as the kernel allows."""
    views = [memoryview(head), *(memoryview(part).cast("B") for part in parts)]
    views.reverse()  # consumed from the end
    while views:
        batch = views[-1 : -_IOV_MAX - 1 : -1]
        written = os.writev(fd, batch)
        while views and written >= len(views[-1]):
            written -= len(views.pop())
        if views and written:
            views[-1] = views[-1][written:]


def _read_all(fd: int, size: int) -> bytes:
    """Read ``size`` bytes (fewer at end of file) into one bytes object, copied once."""
    data = os.read(fd, size) if size > 0 else b""
    if 0 < len(data) < size:  # Linux returns at most about 2 GiB per read
        parts = [data]
        got = len(data)
        while got < size:
            more = os.read(fd, size - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


class ValueFiles:
    """The folder of one database's value files: writing, naming, reading and deleting them."""

    def __init__(self, database: str, file_mode: int) -> None:
        self.folder = database + "-values"
        self._prefix = os.path.join(self.folder, "")
        self._mode = file_mode
        # Each thread's read buffer (see read); a forked child may keep the
        # forking thread's: it is only memory.
        self._local = threading.local()

    def new_file(self, head: bytes, parts: list[Data]) -> str:
        """Write an entry to a new temporary file in the folder; return the name it will take."""
        name = os.urandom(16).hex()
        tmp = self._prefix + name + TMP
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(tmp, flags, self._mode)
        except FileNotFoundError:
            try:
                os.mkdir(self.folder, directory_mode(self._mode))
            except FileExistsError:
                pass  # made meanwhile by another thread or process
            fd = os.open(tmp, flags, self._mode)
        try:
            try:
                write_all(fd, head, parts)
            finally:
                os.close(fd)
        except BaseException:
            self.remove([name + TMP])
            raise
        return name

    def place(self, name: str) -> None:
        """Give the temporary file of ``name`` its name (call inside the transaction naming it)."""
        os.rename(self._prefix + name + TMP, self._prefix + name)

    def path(self, name: str) -> str:
        """Return the path of the value file ``name``."""
        return self._prefix + name

    def read(self, name: str, head_size: int, reuse: bool) -> tuple[bytes, Data, bytearray | None]:
        """Return the head (``head_size`` bytes, fewer if short) and the data of a value file.

        The data is a new bytes object; or, with ``reuse`` and at most
        ``_SCRATCH_MAX`` bytes, a view of this thread's read buffer, which is
        then returned third and must be handed back with :meth:`give_scratch`
        once the data is decoded. Until then a nested read (an object being
        unpickled that calls a memoized function) uses a buffer of its own.
        """
        if not _NAME.fullmatch(name):
            raise BadEntry(f"its value file name {name!r} is not one memokit writes")
        fd = os.open(self._prefix + name, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            head = os.read(fd, head_size)
            rest = size - len(head)
            if not reuse or rest > _SCRATCH_MAX:
                return head, _read_all(fd, rest), None
            scratch: bytearray | None = self._local.__dict__.pop("scratch", None)
            if scratch is None or len(scratch) < rest:
                scratch = bytearray(rest)  # a new one: a buffer is never resized
            view = memoryview(scratch)[:rest]
            got = 0
            while got < rest:
                more = os.readv(fd, [view[got:]])
                if not more:
                    break
                got += more
            return head, view[:got], scratch
        finally:
            os.close(fd)

    def give_scratch(self, scratch: bytearray) -> None:
        """Hand back the read buffer that :meth:`read` returned."""
        self._local.scratch = scratch

    def remove(self, names: Iterable[str]) -> None:
        """Delete these files of the folder; ignore ones already gone (or not memokit's)."""
        for name in names:
            base = name.removesuffix(TMP)
            if not _NAME.fullmatch(base):
                continue
            try:
                os.remove(self._prefix + name)
            except OSError:
                pass  # gone already, or not removable now: the next sweep tries again

    def survey(self, wait: float) -> tuple[list[str], list[str]]:
        """Return the named files in the folder, and the temporary ones nobody wrote for long.

        A temporary file counts as abandoned once unwritten for an hour, or
        twice ``wait`` (the longest a live writer waits for the lock before
        it renames its file), whichever is longer.
        """
        try:
            listed = os.listdir(self.folder)
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        now = time.time()
        named, stale = [], []
        for name in listed:
            if _NAME.fullmatch(name):
                named.append(name)
            elif name.endswith(TMP) and _NAME.fullmatch(name.removesuffix(TMP)):
                try:
                    age = now - os.stat(self._prefix + name).st_mtime
                except FileNotFoundError:
                    continue
                if age > max(_TMP_GRACE, 2 * wait):
                    stale.append(name)
        return named, stale
