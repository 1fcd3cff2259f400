"""Flush subnormal floats to zero while training: ``with flush_denormals(): ...``.

Subnormal ("denormal") numbers are the floats below ``finfo(float32).tiny`` (about
1.2e-38). On x86 CPUs, arithmetic on them takes microcode assists and runs 10 to 100 times
slower. Training produces them naturally: the momentum of a dead ReLU unit decays by
``beta1`` every step until it passes through the subnormal range, and measured here an
Adam epoch on an MLP slowed down threefold from step ~800 on because of it.

The CPU can treat them as zero instead (the MXCSR flags FTZ, "flush to zero", and DAZ,
"denormals are zero"): the numbers that change are below 1.2e-38 and have no effect on a
network's training. PyTorch offers the same switch as ``torch.set_flush_denormal``.

``flush_denormals()`` sets the flags for the calling thread and puts the previous state
back on exit, like ``np.errstate``. It works where the C library has ``fegetenv`` /
``fesetenv`` with the x86-64 glibc layout (Linux on x86-64); elsewhere it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import platform
import struct
import sys
from collections.abc import Iterator

__all__ = ["flush_denormals", "supported"]

_FENV_SIZE = 32  # sizeof(fenv_t) on x86-64 glibc
_MXCSR_OFFSET = 28  # fenv_t.__mxcsr
_FTZ_DAZ = 0x8000 | 0x0040  # MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero


_UNSET = object()
_libm_cache: object = _UNSET


def _libm() -> ctypes.CDLL | None:
    """The C math library, loaded on first use (never at import: ``import lucidnet``
    starts no process and touches no library). glibc's is ``libm.so.6``, loaded by that
    name: ``ctypes.util.find_library`` would run ``ldconfig -p`` in a subprocess."""
    global _libm_cache
    if _libm_cache is _UNSET:
        lib = None
        if sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64"):
            try:
                lib = ctypes.CDLL("libm.so.6")
            except OSError:
                lib = None
        _libm_cache = lib
    return _libm_cache  # type: ignore[return-value]


def supported() -> bool:
    """Whether ``flush_denormals`` can set the flags on this platform."""
    return _libm() is not None


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat subnormal floats as zero inside the ``with`` block (this thread only)."""
    libm = _libm()
    if libm is None:
        yield
        return
    saved = ctypes.create_string_buffer(_FENV_SIZE * 2)  # room to spare for the struct
    if libm.fegetenv(saved) != 0:
        yield
        return
    flushed = ctypes.create_string_buffer(saved.raw, len(saved.raw))
    mxcsr = struct.unpack_from("<I", flushed.raw, _MXCSR_OFFSET)[0]
    struct.pack_into("<I", flushed, _MXCSR_OFFSET, mxcsr | _FTZ_DAZ)
    libm.fesetenv(flushed)
    try:
        yield
    finally:
        libm.fesetenv(saved)
