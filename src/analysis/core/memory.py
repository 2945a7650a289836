"""Memory a process no longer uses, handed back to the system.

Two allocators keep freed memory for reuse: pyarrow's pool (mimalloc; it holds the text columns and
what reading Parquet decoded) and glibc's ``malloc`` (NumPy's arrays and Python's objects). A notebook
kernel at 100,000 employees kept 0.4-0.7 GB this way after each large step, while the other kernel
running beside it needed the memory. Handing it back changes no result: only where the next
allocation comes from.
"""

from __future__ import annotations

import ctypes
import gc


def release_memory(collect: bool = False) -> None:
    """Return freed memory to the system: pyarrow's unused pool pages, then glibc's free blocks
    (``malloc_trim``; elsewhere nothing). With ``collect``, Python's cycle collector runs first (it
    can take a second with millions of objects alive, so only where large tables were just dropped)."""
    if collect:
        gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pyarrow is a dependency; a process without it has no pool to release
        pass
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc
        pass
