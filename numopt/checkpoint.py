"""Checkpoint files of ``minimize``: one ``.npz``, written atomically.

A checkpoint holds everything a run needs to continue as if never stopped: the
point, the best point, the optimizer's state (moments, step count, schedule
state), the loop's counters, and for mini-batches the shuffling generator's state,
the current epoch's order and the position in it.  Arrays are stored as arrays;
everything else as one JSON document under the key ``"meta"``.

Writes go to a temporary file in the same folder, then ``os.replace`` moves it
over the old checkpoint, so a crash mid-write never corrupts the last good one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "numopt-checkpoint-1"


def save(path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON-able) and ``arrays`` to ``path`` atomically."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"checkpoint: the folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            doc = json.dumps({"format": FORMAT, **meta})
            np.savez(fh, meta=np.array(doc), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a checkpoint written by :func:`save`; a clear error for anything else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"resume: no checkpoint file at {str(path)!r}") from None
    except Exception as exc:
        raise ValueError(f"resume: {str(path)!r} is not a numopt checkpoint ({exc})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise ValueError(
            f"resume: {str(path)!r} is not a numopt checkpoint (no metadata)"
        ) from None
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"resume: {str(path)!r} has format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    return meta, arrays
