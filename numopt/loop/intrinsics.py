"""Numba intrinsics of the compiled loop: LLVM that Numba's own API does not express.

Each one removes a cost measured on the 2-D Rosenbrock function, where the loop's
overhead per iteration is a few nanoseconds: factors loaded into registers, arrays
viewed without reference counting, the counters' record copied into the stack frame.
"""

from __future__ import annotations

import zlib

import numba.experimental.function_type  # noqa: F401 - the data model of FunctionType
from llvmlite import ir as llvm_ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def registers(typingctx, array, n):  # pragma: no cover - compiled
    """The first ``n`` (a constant) values of ``array`` as a tuple, loaded one by one.

    (Numba's ``to_fixed_tuple`` builds the tuple in a loop through a stack slot, which
    LLVM does not unroll: measured 5 ns per step on the 2-D Rosenbrock.)
    """
    if not isinstance(array, types.Array) or not isinstance(n, types.IntegerLiteral):
        return None
    count = n.literal_value
    tuple_type = types.UniTuple(array.dtype, count)

    def codegen(context, builder, signature, args):
        data = context.make_array(array)(context, builder, value=args[0]).data
        values = [builder.load(cgutils.gep(builder, data, i)) for i in range(count)]
        return context.make_tuple(builder, tuple_type, values)

    return tuple_type(array, n), codegen


# The loop's arrays are alive in Python for the whole call, so the loop works on views of
# them that Numba does not count references to (no meminfo): an inlined service with
# loops or branches would otherwise count references to every array it is given, at
# every iteration (tens of atomic operations per iteration: measured 3x slower on the
# 2-D Rosenbrock).
@intrinsic
def borrowed(typingctx, value):  # pragma: no cover - compiled
    """``value`` viewed without reference counts: an array with the same data, shape and
    strides and no meminfo (the caller keeps the array alive); a tuple (a named tuple
    too) with each of its arrays so viewed, its other items as they are."""
    if not isinstance(value, (types.Array, types.BaseTuple)):
        return None

    def codegen(context, builder, signature, args):
        if isinstance(value, types.Array):
            return _borrow_array(context, builder, value, args[0])
        items = [
            _borrow_array(context, builder, t, builder.extract_value(args[0], j))
            if isinstance(t, types.Array)
            else builder.extract_value(args[0], j)
            for j, t in enumerate(value.types)
        ]
        return context.make_tuple(builder, value, items)

    return value(value), codegen


def _borrow_array(context, builder, array_type, value):
    make = context.make_array(array_type)
    src = make(context, builder, value=value)
    view = make(context, builder)
    view.meminfo = cgutils.get_null_value(view.meminfo.type)
    view.parent = cgutils.get_null_value(view.parent.type)
    for field in ("nitems", "itemsize", "data", "shape", "strides"):
        setattr(view, field, getattr(src, field))
    return view._getvalue()


@intrinsic
def on_stack(typingctx, record):  # pragma: no cover - compiled
    """A copy of ``record`` in the caller's stack frame (its fields can live in registers:
    the copy cannot alias the arrays the loop writes)."""

    def codegen(context, builder, signature, args):
        with builder.goto_entry_block():
            slot = builder.alloca(llvm_ir.ArrayType(llvm_ir.IntType(8), record.size))
            slot.align = 16
        one = context.get_constant(types.intp, 1)
        cgutils.raw_memcpy(builder, slot, args[0], one, record.size)
        return slot

    return record(record), codegen


@intrinsic
def store(typingctx, dst, src):  # pragma: no cover - compiled
    """Copy the record ``src`` over ``dst`` (the same record type)."""

    def codegen(context, builder, signature, args):
        one = context.get_constant(types.intp, 1)
        cgutils.raw_memcpy(builder, args[0], args[1], one, dst.size)
        return context.get_dummy_value()

    return types.none(dst, src), codegen


# A function called through its address (L-BFGS-B's step:
# numopt.quasi_newton.method.step_pointer): a call by name would have every new loop link
# its code in and optimise it again.
def types_check(argument_types: tuple) -> int:
    """A number that names a function's argument types: the Python side's, for the
    address it hands over, and :func:`signature_check`'s, for the call made with it."""
    return zlib.crc32(repr(tuple(argument_types)).encode())


@intrinsic
def function_at(typingctx, address, arguments):  # pragma: no cover - compiled
    """The compiled function at ``address`` (an int64) as a first-class function that
    takes the types of the tuple ``arguments`` and returns an int64.  The caller checks
    first that the address is of a function of those types (:func:`signature_check`)."""
    function = types.FunctionType(types.int64(*arguments.types))

    def codegen(context, builder, signature, args):
        value = cgutils.create_struct_proxy(function)(context, builder)
        value.c_addr = cgutils.voidptr_t(None)
        value.py_addr = cgutils.voidptr_t(None)
        # (a non-null jit_addr: Numba calls the function itself, with its own convention)
        value.jit_addr = builder.inttoptr(args[0], cgutils.voidptr_t)
        return value._getvalue()

    return function(address, arguments), codegen


@intrinsic
def signature_check(typingctx, arguments):  # pragma: no cover - compiled
    """:func:`types_check` of the types of the tuple ``arguments``, a constant."""
    number = types_check(arguments.types)

    def codegen(context, builder, signature, args):
        return context.get_constant(types.int64, number)

    return types.int64(arguments), codegen
