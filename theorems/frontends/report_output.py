"""Where a report goes: the output folder is checked before the run starts, the report is
written into a staging folder beside it and moved into place at the end, so the folder always
holds one complete report, even when the run is interrupted (issue 15)."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPORT_FILES = ("report.json", "report.html", "report.md")


class OutputError(ValueError):
    """The output folder cannot receive a report."""


def check_output_folder(out: str | Path) -> Path:
    """``out`` as a Path after checking, before any work, that a report can replace it: it is a
    folder or does not exist yet, its parent is a folder, and an existing folder is empty or
    holds an earlier report (so replacing it cannot delete a user's other files)."""
    path = Path(out)
    for parent in path.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"--out {out}: {parent} is a file, not a folder; choose another --out")
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out {out} is an existing file; choose a folder name")
    if path.is_dir() and any(path.iterdir()) and not any((path / name).is_file() for name in REPORT_FILES):
        raise OutputError(f"--out {out} is a folder that holds other files and no report; choose a new or empty "
                          "folder (a report replaces the whole folder)")
    return path


@contextmanager
def staged_folder(out: str | Path) -> Iterator[Path]:
    """A fresh folder beside ``out`` to write the report into; when the block ends normally it
    replaces ``out`` (the old report is removed only once the new one is complete); when the block
    raises, ``out`` is left as it was and the staging folder is removed."""
    target = check_output_folder(out)
    target.absolute().parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.absolute().parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.absolute().parent))
        target.rename(old / target.name)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
