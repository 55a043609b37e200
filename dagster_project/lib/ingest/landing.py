"""What lies in the landing dir: the files that can be deliveries, and everything else.

docs/contract/FEEDS.md: deliveries are `<landing>/<feed>/<file>`. Only regular files directly inside a feed
folder are read. Anything else is a *stray*, reported with what it is and never opened, counted
or followed: a hidden file, a folder inside a feed folder, a symbolic link (it could point
anywhere, e.g. outside the landing dir), a FIFO or device, a folder that is no feed, a file at
the landing root. A file is read through a descriptor opened without following links and checked
to be a regular file, so that a file swapped for a link or a FIFO after the scan is not read either.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Stray:
    """Something in the landing dir that is not read: `name` relative to its folder."""

    name: str
    feed: str | None  # the feed folder it is in; None at the landing root
    reason: str


@dataclass
class LandingScan:
    files: dict[str, list[Path]] = field(default_factory=dict)  # feed -> regular files, in name order
    strays: list[Stray] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # feeds without a folder


class NotARegularFile(OSError):
    """A path that is (no longer) a regular file when it is opened."""


def scan_landing(landing: Path, feeds: tuple[str, ...]) -> LandingScan:
    scan = LandingScan()
    entries = _entries(landing)
    for feed in feeds:
        entry = entries.get(feed)
        if entry is None:
            scan.missing.append(feed)
        elif entry.is_dir(follow_symlinks=False):
            files, strays = scan_feed_folder(landing / feed, feed)
            scan.files[feed] = files
            scan.strays += strays
    for name, entry in sorted(entries.items()):
        if name in feeds and entry.is_dir(follow_symlinks=False):
            continue
        what = _kind(entry)
        if what == "folder":
            reason = f"unknown folder (not read: the feed folders are {', '.join(feeds)})"
        elif what == "file":
            reason = f"file at the landing root (not read: deliveries go in <landing>/<feed>/, feeds {', '.join(feeds)})"
        else:
            reason = f"{what} at the landing root (not read)"
        if name.startswith(".") and what in ("file", "folder"):
            reason = f"hidden {what} at the landing root (not read)"
        scan.strays.append(Stray(name + ("/" if what == "folder" else ""), None, reason))
    return scan


def scan_feed_folder(folder: Path, feed: str) -> tuple[list[Path], list[Stray]]:
    """The regular files directly in one feed folder (name order) and the strays beside them."""
    files, strays = [], []
    for name, entry in sorted(_entries(folder).items()):
        what = _kind(entry)
        if what == "file" and not name.startswith("."):
            files.append(folder / name)
        elif what == "file":
            strays.append(Stray(name, feed, "hidden file (not read: a name starting with '.' is no delivery)"))
        elif what == "folder":
            strays.append(Stray(name + "/", feed, f"folder inside {feed}/ (not read: deliveries sit directly in {feed}/)"))
        elif what.startswith("symbolic link"):
            strays.append(Stray(name, feed, f"{what} (not read: a delivery is a regular file in the landing dir, a "
                                            "link may point anywhere)"))
        else:
            strays.append(Stray(name, feed, f"{what} (not read: only regular files are deliveries)"))
    return files, strays


def _entries(folder: Path) -> dict[str, os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return {entry.name: entry for entry in it}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def _kind(entry: os.DirEntry) -> str:
    if entry.is_symlink():
        return "symbolic link" if os.path.exists(entry.path) else "symbolic link pointing nowhere"
    mode = entry.stat(follow_symlinks=False).st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device file"


def stat_regular_file(path: Path) -> os.stat_result:
    """The status of `path` if it is a regular file; NotARegularFile for a link, FIFO, folder, ...
    (never follows a link, never opens the file)."""
    status = os.lstat(path)
    if stat.S_ISLNK(status.st_mode):
        raise NotARegularFile(f"{path.name}: a symbolic link (not read)")
    if not stat.S_ISREG(status.st_mode):
        raise NotARegularFile(f"{path.name}: not a regular file (not read)")
    return status


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path` if it is a regular file; NotARegularFile for a link, FIFO, folder, ...
    (opened without following links and without blocking, then checked on the descriptor)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotARegularFile(f"{path.name}: a symbolic link (not read)") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(f"{path.name}: not a regular file (not read)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)
