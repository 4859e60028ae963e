"""The problem side: what is minimised, over what, and where the arrays live.

=====================  ==========================================================
:mod:`.structure`      ``x0`` as given (an array, or a list/tuple/dict) ↔ one flat buffer
:mod:`.objective`      ``fun``/``jac`` as the loop calls them: loss, gradient, counts
:mod:`.differences`    finite-difference gradients (``jac="2-point"``/``"3-point"``)
:mod:`.batching`       mini-batches of the data in ``args``, shuffled per epoch
:mod:`.bounds`         ``bounds=`` in SciPy's forms, laid out flat
:mod:`.placement`      host or GPU: the loop's array operations on each
:mod:`.device`         ``x0`` and the gradient as device arrays (CuPy, PyTorch, Numba)
:mod:`.distributed`    Dask arrays: gradients reduced over chunks on the workers
=====================  ==========================================================
"""
