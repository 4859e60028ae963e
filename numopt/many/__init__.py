"""Many independent problems of the same form in one call: :func:`minimize_many`.

:mod:`.problems` lays the problems out (``x0``'s rows, the split arguments, the
bounds); :mod:`.front` is the door; :mod:`.compiled` runs ``minimize``'s compiled
loop once per problem inside one ``prange``; :mod:`.driver` calls it in chunks
(Ctrl-C, ``max_time``, callbacks); :mod:`.result` builds the result arrays.
"""

from numopt.many.front import minimize_many

__all__ = ["minimize_many"]
