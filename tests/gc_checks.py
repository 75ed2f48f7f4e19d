"""Reference-cycle checks shared by the soak tests (test_stress.py, test_jit.py)."""

from __future__ import annotations

import gc
import os
import types
from collections import Counter
from contextlib import contextmanager

import autodx as ad

AUTODX_DIR = os.path.dirname(ad.__file__)


def made_by_autodx(obj) -> bool:
    """An instance of an autodx class, or a function, code or frame of autodx's own code or of
    code it generated (a file name that is not a file on disk: jit's generated source)."""
    if type(obj).__module__.startswith("autodx"):
        return True
    code = (obj.__code__ if isinstance(obj, types.FunctionType) else
            obj.f_code if isinstance(obj, types.FrameType) else
            obj if isinstance(obj, types.CodeType) else None)
    if code is None:
        return False
    name = code.co_filename
    return name.startswith(AUTODX_DIR) or not os.path.exists(name)


@contextmanager
def cyclic_gc_off():
    """The cyclic GC off for the block; yields a Counter, filled on exit with the autodx-made
    objects that only the cyclic GC could free (those left in reference cycles)."""
    found: Counter = Counter()
    gc.collect()
    gc.disable()
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found.update(type(o).__qualname__ for o in gc.garbage if made_by_autodx(o))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        gc.collect()
