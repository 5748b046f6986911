"""Writing results so that a failed, interrupted or concurrent run leaves nothing half-written and deletes
nothing it did not write.

- `check_output_dir` / `check_output_file`: an output path checked before any work (empty, an existing file
  where a folder is meant or the reverse, under a file, not writable, a name too long, products in it that
  zz-event did not write).
- `output_lock`: one writer per output; a second one is refused at once (an advisory `flock` on a hidden
  file beside the output, removed when the writer ends).
- `staged_directory`: results written into a scratch folder beside the output and moved in when complete.
- `write_json_atomic`: one file replaced in one `rename`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zz_event.errors import OutputPathError

__all__ = [
    "OWNER_MARK",
    "check_output_dir",
    "check_output_file",
    "is_locked",
    "lock_path",
    "output_lock",
    "staged_directory",
    "write_json_atomic",
]

OWNER_MARK = ".zz-event"  # put in every folder zz-event writes whole, so a later run knows it may replace it


def write_json_atomic(path: str | Path, data) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_path(raw: str | Path, option: str) -> Path:
    """Checks every output path shares: not empty, no name too long, not under a file, writable."""
    text = str(raw)
    if not text.strip():
        raise OutputPathError(f"{option} is empty; expected a path")
    path = Path(os.path.abspath(text))
    if len(os.fsencode(str(path))) >= os.pathconf("/", "PC_PATH_MAX"):
        raise OutputPathError(f"{option}: the path is too long", text)
    long = [part for part in path.parts if len(os.fsencode(part)) > 255]
    if long:
        raise OutputPathError(f"{option}: the name {long[0][:40]}... is longer than 255 bytes", text)
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputPathError(f"{option}: {ancestor} is a file, so nothing can be written under it", text)
    _check_writable(ancestor, option, text)
    return path


def _check_writable(folder: Path, option: str, text: str) -> None:
    """Create and remove a probe file: the only test that holds for root and read-only file systems too."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".zz-event-probe-")
    except OSError as error:
        raise OutputPathError(f"{option}: cannot write in {folder} ({error.strerror})", text) from error
    os.close(fd)
    os.unlink(probe)


def check_output_dir(raw: str | Path, option: str, products: tuple[str, ...] = ()) -> Path:
    """The absolute folder `raw` if results can be written into it. `products` are the names a run puts there; an
    existing product folder is replaced only if zz-event wrote it: it holds `OWNER_MARK`, or a product file of the
    same run (e.g. summary.json beside zigzag/) is there too."""
    path = _check_path(raw, option)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{option} is an existing file; expected a folder", str(raw))
    if not path.is_dir():
        return path
    _check_writable(path, option, str(raw))
    ours = any((path / name).is_file() for name in products)
    for name in products:
        product = path / name
        if product.is_dir() and not (product / OWNER_MARK).exists() and not ours:
            raise OutputPathError(f"{option}: {product} exists and was not written by zz-event; it is never "
                                  "replaced: choose another folder or remove it", str(raw))  # fmt: skip
    return path


def check_output_file(raw: str | Path, option: str) -> Path:
    """The absolute file path `raw` if a file can be written there (a folder of that name is refused)."""
    path = _check_path(raw, option)
    if path.is_dir():
        raise OutputPathError(f"{option} is an existing folder; expected a file", str(raw))
    if str(raw).endswith(os.sep):
        raise OutputPathError(f"{option} ends in {os.sep}; expected a file name", str(raw))
    return path


def lock_path(output: str | Path) -> Path:
    output = Path(os.path.abspath(output))
    return output.with_name(f".{output.name}.zz-event.lock")


@contextmanager
def output_lock(output: str | Path, option: str) -> Iterator[Path]:
    """Hold the lock of `output` for the block; OutputPathError at once if another process holds it.

    Holding it, no other writer of `output` is alive, so what a killed one left (its staging folder beside
    `output`, a folder it was replacing inside it) is removed first."""
    path = lock_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputPathError(f"{option}: another zz-event run is writing {output} (lock {path}); "
                                      "wait for it or choose another output", str(output)) from error  # fmt: skip
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino  # not a lock file its last holder just removed
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        _remove_leftovers(Path(os.path.abspath(output)))
        yield path
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _remove_leftovers(output: Path) -> None:
    leftovers = list(output.parent.glob(f".{glob_escape(output.name)}.zz-event-staging-*"))
    if output.is_dir():
        leftovers += [p for p in output.glob(".*.zz-event-old-*") if p.is_dir()]
    for folder in leftovers:
        shutil.rmtree(folder, ignore_errors=True)


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def is_locked(output: str | Path) -> bool:
    """Whether a live process holds the lock of `output` (a killed holder's lock is released by the kernel)."""
    path = lock_path(output)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def staged_directory(final: str | Path):
    """Yield a scratch directory beside `final`; its files move into `final` only if the block succeeds.

    A product folder already in `final` is replaced only if it carries `OWNER_MARK` or was checked by
    `check_output_dir`; every product folder written here gets the mark. The scratch folder is removed on every
    exit that unwinds (an exception, Ctrl-C, SIGTERM turned into SystemExit by the CLI).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.zz-event-staging-"))
    try:
        yield scratch
        final.mkdir(parents=True, exist_ok=True)
        for item in scratch.iterdir():
            target = final / item.name
            if item.is_dir():
                (item / OWNER_MARK).touch()
            if target.is_dir():
                old = Path(tempfile.mkdtemp(dir=final, prefix=f".{item.name}.zz-event-old-"))
                os.replace(target, old / item.name)  # out of the way in one rename, then removed
                shutil.rmtree(old)
            os.replace(item, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
