"""L-BFGS-B's memory and working arrays, as one named tuple of NumPy arrays.

Everything the method keeps between two evaluations is in a :class:`Work`: the
limited memory (the last ``m`` pairs ``s = x_{k+1} - x_k``, ``y = g_{k+1} - g_k`` as
rows of ``S`` and ``Y``, a ring that starts at ``head``), the small matrices of its
compact representation, the working vectors, the bound types, and two records of
scalars, ``ints`` and ``floats``, read by name (``w.ints[I.col]``; Numba folds the
constant index).  The same arrays serve the loop run from Python and the compiled
loop, are saved in checkpoints as they are, and are what ``state_dict`` returns.

Layout (``m`` = ``maxcor``, ``n`` = the number of variables):

=========  =============  =====================================================
``S, Y``   ``(m, n)``     the memory's pairs (row ``head`` is the oldest)
``v``      ``(5, n)``     working vectors :data:`V`: the target point ``z``, the
                          gradient at the line search's start ``r``, the direction
                          ``d``, the start ``t``, the subspace step's copy ``xp``
``iv``     ``(4, n)``     :data:`IV`: the bound types ``nbd``, the free/active
                          ``index``, ``iwhere``, and ``indx2``
``sy``     ``(m, m)``     ``SᵀY`` (its lower triangle) — ``ss`` ``SᵀS`` (upper)
``wt``     ``(m, m)``     the Cholesky factor of ``θSᵀS + LD⁻¹Lᵀ``
``wn``     ``(2m, 2m)``   the factor of the subspace problem's matrix ``K``
``snd``    ``(2m, 2m)``   the inner products ``K`` is assembled from
``wa``     ``(8m,)``      small working vectors
=========  =============  =====================================================
"""

from __future__ import annotations

import collections
from typing import Any, NamedTuple

import numpy as np


def slots(*names: str) -> Any:
    """A constant named tuple of positions: ``slots("a", "b").b == 1``."""
    return collections.namedtuple("Slots", names)(*range(len(names)))


#: The integer record's entries.
I = slots(  # noqa: E741 - the record's name, as F
    "m",  # maxcor
    "maxls",  # evaluations per line search at most
    "col",  # pairs in the memory
    "head",  # the oldest pair's row
    "itail",  # the newest pair's row
    "iupdat",  # updates since the memory was last emptied
    "updatd",  # whether the last iteration updated the memory
    "iter",  # iterations done
    "nfree",  # free variables at the Cauchy point
    "nenter",  # variables entering the free set
    "ileave",  # indx2[ileave:] are the variables leaving it
    "iword",  # whether the subspace step was truncated by a bound
    "nseg",  # segments explored by the Cauchy search
    "nskip",  # updates skipped (sᵀy too small)
    "ifun",  # evaluations in the current line search
    "iback",  # ifun - 1
    "cnstnd",  # whether any variable has a bound
    "boxed",  # whether every variable has both
    "pending",  # an accepted step is waiting to enter the memory
    "brackt",  # the line search has bracketed a minimiser
    "stage",  # its stage (1 or 2)
    "restarts",  # times the memory was emptied after a failed search
    "searching",  # a line search is under way (its trial is being evaluated)
)
#: The float record's entries.
F = slots(
    "theta",  # the scaling of the initial matrix B0 = θI
    "fold",  # f at the line search's start
    "dnorm",  # ‖d‖
    "dtd",  # dᵀd
    "gd",  # gᵀd at the current trial
    "gdold",  # gᵀd at the start
    "stp",  # the current trial step
    "stpmx",  # the largest step allowed
    "finit",  # the line search's records (numopt.quasi_newton.line_search)
    "ginit",
    "gtest",
    "stx",
    "fx",
    "gx",
    "sty",
    "fy",
    "gy",
    "stmin",
    "stmax",
    "width",
    "width1",
)
#: Rows of ``Work.v``.
V = slots("z", "r", "d", "t", "xp")
#: Rows of ``Work.iv``.
IV = slots("nbd", "index", "iwhere", "indx2")


class Work(NamedTuple):
    """The method's arrays (see the module docstring)."""

    S: np.ndarray
    Y: np.ndarray
    v: np.ndarray
    iv: np.ndarray
    sy: np.ndarray
    ss: np.ndarray
    wt: np.ndarray
    wn: np.ndarray
    snd: np.ndarray
    wa: np.ndarray
    ints: np.ndarray
    floats: np.ndarray


def new(n: int, m: int, maxls: int) -> Work:
    """Empty working arrays for ``n`` variables and ``m`` pairs (θ = 1, no memory), set
    up for a problem without bounds, every variable free: what
    :func:`numopt.quasi_newton.lbfgsb.initialize` makes of empty bounds (with bounds,
    it classifies them)."""
    ints = np.zeros(len(I), np.int64)
    ints[I.m] = m
    ints[I.maxls] = maxls
    ints[I.nfree] = n
    ints[I.boxed] = n == 0  # (every variable of none has both bounds)
    floats = np.zeros(len(F), np.float64)
    floats[F.theta] = 1.0
    iv = np.zeros((len(IV), n), np.int64)
    iv[IV.iwhere] = -1
    return Work(
        S=np.zeros((m, n)),
        Y=np.zeros((m, n)),
        v=np.zeros((len(V), n)),
        iv=iv,
        sy=np.zeros((m, m)),
        ss=np.zeros((m, m)),
        wt=np.zeros((m, m)),
        wn=np.zeros((2 * m, 2 * m)),
        snd=np.zeros((2 * m, 2 * m)),
        wa=np.zeros(8 * m),
        ints=ints,
        floats=floats,
    )
