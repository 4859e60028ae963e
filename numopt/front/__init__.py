"""The front door: :func:`minimize`, its options, their parsing, and the result.

=====================  ==========================================================
:mod:`.minimize`       ``minimize()``: parse, assemble, drive, return
:mod:`.options`        every option, declared once (name, default, check, doc)
:mod:`.config`         the options parsed into typed configuration
:mod:`.result`         SciPy's ``OptimizeResult`` from a finished run
=====================  ==========================================================
"""
