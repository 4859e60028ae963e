"""The loop of ``minimize``: one iteration, run from Python or compiled, and its driver.

=====================  ==========================================================
:mod:`.iteration`      the iteration, written once; its services bound per mode
:mod:`.state`          the loop's state and settings, declared once
:mod:`.record`         a field list as a Python object, a NumPy record, plain data
:mod:`.status`         how a run ends (``Status``), why the loop pauses (``Pause``)
:mod:`.run`            one call, assembled: problem, optimizer, state
:mod:`.driver`         chunks of iterations and the Python work between them
:mod:`.python_mode`    the services as Python objects (any objective, any rule)
:mod:`.compiled`       the services as Numba functions (Numba objectives)
:mod:`.checkpoint`     checkpoint files, and resuming from them bit for bit
:mod:`.hooks`          callbacks, progress bar, disp rows, Ctrl-C
:mod:`.history`        ``result.history``'s series
=====================  ==========================================================
"""
