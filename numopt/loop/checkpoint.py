"""Checkpoint files of ``minimize``: one ``.npz``, written atomically, resumed bit for bit.

A checkpoint holds everything a run needs to continue as if never stopped: the
point, the best point, the optimizer's state (moments, step count, schedule
state), the loop's record (the saved fields of :data:`numopt.loop.state.STATE`),
and for mini-batches the shuffling generator's state, the current epoch's order
and the position in it.  Arrays are stored as arrays; everything else as one JSON
document under the key ``"meta"``:

``{"format": "numopt-checkpoint-2", "run": {...}, "loop": {...}, "optimizer": {...}}``

where ``"run"`` is what a resumed run must match (:func:`identity`) and ``"loop"``
the loop's record plus the epoch's losses, the kind of order and the generator's
state.  Files of the first format (``numopt-checkpoint-1``, every key at the top
level) are migrated when read (:func:`migrate`).

Writes go to a temporary file in the same folder, then ``os.replace`` moves it
over the old checkpoint, so a crash mid-write never corrupts the last good one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from numopt.loop.history import Record
from numopt.loop.state import STATE
from numopt.transforms import options as transform_options
from numopt.transforms._wrapper import chain

FORMAT = "numopt-checkpoint-2"
#: The first format (everything at the top level of "meta"), read and migrated.
FORMAT_1 = "numopt-checkpoint-1"
#: ``minimize_many``'s checkpoints (:mod:`numopt.many.checkpoint`), in the same files.
MANY_FORMAT = "numopt-many-checkpoint-1"
#: Which function writes each format (what a wrong ``resume`` is told).
WRITER = {
    FORMAT: "numopt.minimize",
    FORMAT_1: "numopt.minimize",
    MANY_FORMAT: "numopt.minimize_many",
}


def save(
    path: str | os.PathLike,
    meta: dict[str, Any],
    arrays: dict[str, np.ndarray],
    fmt: str = FORMAT,
) -> None:
    """Write ``meta`` (JSON-able) and ``arrays`` to ``path`` atomically, as format ``fmt``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"checkpoint: the folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            doc = json.dumps({"format": fmt, **meta})
            np.savez(fh, meta=np.array(doc), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(
    path: str | os.PathLike, fmt: str = FORMAT
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a checkpoint of format ``fmt`` written by :func:`save` (``minimize``'s
    first format is migrated); clear errors otherwise."""
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
    if meta.get("format") == FORMAT_1 and fmt == FORMAT:
        meta = migrate(meta)
    got = meta.get("format")
    if got != fmt:
        by = f", written by {WRITER[got]}" if got in WRITER else ""
        raise ValueError(
            f"resume: {str(path)!r} has format {got!r}{by}; {WRITER[fmt]} resumes from {fmt!r}"
        )
    return meta, arrays


#: What a resumed run must match, by the key it has in "run".
IDENTITY = ("method", "dtype", "shapes", "transforms", "bounds")
#: The loop's entries besides the record's fields.
LOOP_EXTRA = ("epoch_losses", "order", "rng")


def migrate(meta: dict[str, Any]) -> dict[str, Any]:
    """A first-format checkpoint's metadata in the current layout.

    The first format kept every entry at the top level and ``f_prev`` as ``null``
    before the first update (the loop's record now holds NaN there).

    Examples
    --------
    >>> old = {"format": FORMAT_1, "method": "gd", "nit": 3, "f_prev": None, "optimizer": {}}
    >>> new = migrate(old)
    >>> new["format"], new["run"]["method"], new["loop"]["nit"], new["loop"]["f_prev"]
    ('numopt-checkpoint-2', 'gd', 3, nan)
    """
    loop = {k: meta.get(k) for k in (*STATE.names, *LOOP_EXTRA) if k in meta}
    if loop.get("f_prev") is None:
        loop["f_prev"] = math.nan
    return {
        "format": FORMAT,
        "run": {k: meta.get(k) for k in IDENTITY},
        "loop": loop,
        "optimizer": meta.get("optimizer"),
    }


def identity(run: Any) -> dict[str, Any]:
    """What a checkpoint of ``run`` records of it, and what a resumed run must match."""
    s = run.structure
    return {
        "method": run.method,
        "dtype": s.dtype.name,
        "shapes": [list(shape) for shape in s.shapes],
        "transforms": transform_options.describe(run.opt, run.accumulate),
        "bounds": run.bounds_key(),
    }


def same_identity(
    made: dict[str, Any],
    have: dict[str, Any],
    keys: tuple[str, ...],
    who: str,
    names: dict[str, str] | None = None,
) -> None:
    """Refuse to resume from a checkpoint whose recorded identity ``made`` differs from
    ``have`` in one of ``keys`` or in the bounds' fingerprint; ``who`` ("run", "call")
    and ``names`` (how to call a key) word the message."""
    for key in keys:
        if made.get(key) != have[key]:
            raise ValueError(
                f"resume: the checkpoint was made with {(names or {}).get(key, key)} "
                f"{made.get(key)!r}, this {who} has {have[key]!r}"
            )
    if made.get("bounds") != have["bounds"]:
        was = "without bounds" if made.get("bounds") is None else "with other bounds"
        now = "no bounds" if have["bounds"] is None else "bounds"
        raise ValueError(
            f"resume: the checkpoint was made {was}, this {who} has {now}; resume with "
            "the same bounds (bounds are not stored in the checkpoint: give them again)"
        )


def optimizer_arrays(sd: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of an optimizer's ``state_dict`` ``sd`` (taken out of it), named as a
    checkpoint stores them (``opt_<name>``)."""
    return {f"opt_{k}": v for k, v in sd.pop("state", {}).items()}


def with_optimizer_arrays(sd: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The ``state_dict`` ``sd`` with its arrays put back from a checkpoint's ``arrays``."""
    state = {k[4:]: v for k, v in arrays.items() if k.startswith("opt_")}
    if state:
        sd["state"] = state
    return sd


def same_hyperparameters(saved: dict[str, Any], opt: Any) -> None:
    """Refuse to resume ``opt`` from a checkpoint whose hyperparameters ``saved`` differ."""
    rule = chain(opt)[-1]
    # checked as on load: JSON gives lists where tuples were saved (Rprop's etas)
    saved = {k: rule.check(k, v) if k in rule.declarations else v for k, v in saved.items()}
    current = {k: v for k, v in opt.hyperparameters.items() if not callable(v)}
    for key in sorted(set(saved) | set(current)):
        if saved.get(key, "a schedule") != current.get(key, "a schedule"):
            raise ValueError(
                f"resume: the checkpoint was made with {key}="
                f"{saved.get(key, 'a schedule')!r}, this run has "
                f"{current.get(key, 'a schedule')!r}; resume with the same options"
            )


def write(run: Any) -> None:
    """Save ``run`` at its current consistent point to its checkpoint file."""
    sd = run.opt.state_dict()
    host = run.ops.host  # checkpoints hold host arrays, wherever the run is
    arrays = {"x": host(run.x), "best_x": host(run.best_x)}
    arrays.update(optimizer_arrays(sd))
    if run.x_prev is not None:
        arrays["x_prev"] = host(run.x_prev)
    evaluated = run.state.phase == 2  # a line search left f and g at x: keep g too
    if evaluated:
        arrays["g"] = host(run.g)
    order = run.order
    if order is not False and order is not None:
        arrays["order"] = order
    if run.history is not None:
        arrays.update({f"history_{k}": np.asarray(v) for k, v in run.history.items()})
    loop = {
        **STATE.saved(run.state),
        "phase": 2 if evaluated else 0,  # (1, back from callbacks, is the driver's own)
        "epoch_losses": run.epoch_losses(),
        "order": "none" if order is None else ("array" if order is not False else "new"),
        "rng": run.batches.rng.bit_generator.state if run.batches is not None else None,
    }
    save(
        run.config.checkpointing.path,
        {"run": identity(run), "loop": loop, "optimizer": sd},
        arrays,
    )
    run.state.saved_nit = run.state.nit
    run.last_save = time.perf_counter()


def resume(run: Any, path: Any) -> None:
    """Put ``run`` where the checkpoint at ``path`` left its run (checked first)."""
    meta, arrays = load(path)
    same_identity(meta["run"], identity(run), ("method", "dtype", "shapes", "transforms"), "run")
    loop = meta["loop"]
    if (loop.get("rng") is None) != (run.batches is None):
        raise ValueError("resume: the checkpoint and this run differ in using batch_size")
    sd = meta["optimizer"]
    same_hyperparameters(sd["hyperparameters"], run.opt)
    run.opt.load_state_dict(with_optimizer_arrays(sd, arrays))
    run.ops.load(run.x, arrays["x"])
    run.ops.load(run.best_x, arrays["best_x"])
    if run.x_prev is not None and "x_prev" in arrays:
        run.ops.load(run.x_prev, arrays["x_prev"])
    s = run.state
    STATE.restore(s, loop, "resume: the checkpoint")
    if s.phase == 2:
        if "g" not in arrays:
            raise ValueError("resume: the checkpoint lacks the gradient at its point")
        run.ops.load(run.g, arrays["g"])
        s.fx, s.fx_known = s.f_cur, 1
    run.objective.nfev, run.objective.njev = s.nfev, s.njev
    losses = loop["epoch_losses"]
    s.n_losses = len(losses)
    run.losses[: len(losses)] = losses
    run.order = {"none": None, "new": False}.get(loop["order"], arrays.get("order"))
    if run.batches is not None:
        run.batches.rng.bit_generator.state = loop["rng"]
    if run.history is not None:
        for k in run.history:
            run.history[k] = Record(arrays.get(f"history_{k}", ()))
    s.saved_nit = s.nit
