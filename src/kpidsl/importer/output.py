"""Writing the normalized data folder: canonical CSV, and an all-or-nothing move into place.

Files are UTF-8 without a byte-order mark, LF line ends, rows sorted by key,
columns in a stable order. Everything is written into a temporary folder
next to the target and moved into place with ``os.replace`` only when
complete; an existing folder is replaced only with ``force`` and only when it
looks like a data folder (CSV files and an import report, nothing else).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kpidsl.data.folder import IMPORT_REPORT
from kpidsl.paths import umask

from .schema import TableSchema, column_order
from .transform import Row

REPORT_NAME = IMPORT_REPORT


class OutputError(Exception):
    """The output folder cannot be written (exists without --force, or is not a data folder)."""


def table_csv(rows: list[Row], schema: TableSchema) -> bytes:
    """The canonical CSV text of a table's rows."""
    present: list[str] = []
    for row in rows:
        present += [c for c in row.values if c not in present]
    columns = column_order(schema, present)
    key = [c for c in schema.key if c in columns]
    ordered = sorted(rows, key=lambda r: ([r.values.get(c, "") for c in key],
                                          [r.values.get(c, "") for c in columns]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in ordered:
        writer.writerow([row.values.get(c, "") for c in columns])
    return buf.getvalue().encode("utf-8")


def check_target(out: Path, force: bool) -> None:
    """Refuse early: an existing target without ``force``, or one that is not a data folder."""
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise OutputError(f"{out} already exists; use --force to replace it")
    if out.is_symlink() or not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; it was left alone")
    strangers = sorted(p.name for p in out.iterdir()
                       if not (p.is_file() and (p.suffix == ".csv" or p.name == REPORT_NAME)))
    if strangers:
        raise OutputError(f"{out} holds more than a data folder ({', '.join(strangers[:5])}); "
                          "--force only replaces a folder of CSV files and an import report")


def write_file(path: Path, data: bytes) -> None:
    """Write one file (a seam for tests simulating a failure mid-write)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_folder(out: Path, files: Mapping[str, bytes], *, force: bool = False) -> None:
    """Write ``files`` as the folder ``out``, atomically (see the module docstring)."""
    check_target(out, force)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.importing-", dir=parent))
    try:
        for name in sorted(files):
            write_file(tmp / name, files[name])
        os.chmod(tmp, 0o777 & ~umask())  # as a plain new folder: 0755, or 0700 under umask 077
        _swap(tmp, out.resolve(), force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, out: Path, force: bool) -> None:
    if not out.exists():
        os.replace(tmp, out)
        return
    check_target(out, force)
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, old / "data")
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old / "data", out)
        raise
    finally:
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
