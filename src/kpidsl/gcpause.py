"""Pausing the cyclic garbage collector around work that allocates many acyclic objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while parsing a plan or binding fact rows: both allocate many
    short-lived or acyclic objects, and the collections they trigger cost a fifth of the
    time. Counted across threads; the GC is re-enabled (if it was on) by the last one out.
    """
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
