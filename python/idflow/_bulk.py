"""The cache's JSON into and out of native code without copies.

The generated binding hands a returned string to Python through an
intermediate ``bytes`` (one copy) and then decodes it (a second), and takes a
``str`` argument through ``encode`` (a copy the native side does not need: it
reads the bytes in place). For a cache of 100k users each copy is 342 MiB of
fresh memory, and its page faults cost as much as a third of the native work.
On CPython, ``serialize`` creates the ``str`` first, at the length the native
side predicts, and the native writer writes the document into that string's
own bytes (on Linux, with the kernel asked for huge pages there: a fresh page
of 4 KiB costs a fault, about half the time of filling 342 MiB); a document
that does not fit (an escaped string) or is not ASCII takes one copy.
``deserialize`` lends an ASCII string's own bytes to the native reader.
Anywhere else (another Python, or generated names this module does not find)
these are the generated calls, so the results never differ, only the copies.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any, Callable, Optional, Tuple

# The generated module itself (its private names: see `_common._gen`).
from ._common import _gen as _ffi

# A ForeignBytes length is an i32: larger documents take the generated path
# (which fails the same way as before).
_MAX_LENT = 2**31 - 1


def _bind() -> Optional[Tuple[Callable[..., Any], ...]]:
    """The C-API functions, as private prototypes (setting ``restype`` on
    ``ctypes.pythonapi``'s shared attributes would change them for every
    other user in the process); None when this Python has no C API or the
    generated module lacks a name used here."""
    try:
        api = ctypes.pythonapi
        decode = ctypes.PYFUNCTYPE(
            ctypes.py_object, ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_char_p
        )(("PyUnicode_DecodeUTF8", api))
        as_utf8 = ctypes.PYFUNCTYPE(
            ctypes.c_void_p, ctypes.py_object, ctypes.POINTER(ctypes.c_ssize_t)
        )(("PyUnicode_AsUTF8AndSize", api))
        new = ctypes.PYFUNCTYPE(
            ctypes.py_object, ctypes.c_ssize_t, ctypes.c_uint32
        )(("PyUnicode_New", api))
        for name in ("_UniffiLib", "_UniffiForeignBytes", "_uniffi_rust_call_with_error",
                     "_UniffiFfiConverterTypeAuthError", "TokenCache"):
            getattr(_ffi, name)
        lib = _ffi._UniffiLib
        lib.uniffi_idflow_ffi_fn_method_tokencache_serialize  # noqa: B018
        lib.uniffi_idflow_ffi_fn_method_tokencache_deserialize_utf8  # noqa: B018
        _ffi.TokenCache.serialized_len_hint  # noqa: B018
        _ffi.TokenCache.serialize_into_address  # noqa: B018
    except (AttributeError, TypeError, ValueError, OSError):
        return None
    return decode, as_utf8, new


_API = _bind()

# Below this a document is not worth a system call.
_HUGE_MIN = 4 << 20
_HUGE = 2 << 20


def _bind_madvise() -> Optional[Callable[..., Any]]:
    """libc's ``madvise`` on Linux (``MADV_HUGEPAGE`` is Linux's), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        advise = ctypes.CDLL(None, use_errno=True).madvise
    except (AttributeError, OSError):
        return None
    advise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    advise.restype = ctypes.c_int
    return advise


_MADVISE = _bind_madvise()
_MADV_HUGEPAGE = 14


def _ask_huge_pages(address: int, size: int) -> None:
    """Asks for huge pages for the whole 2 MiB pages inside the buffer (not
    yet touched): a hint; where the kernel declines, nothing changes."""
    if _MADVISE is None or size < _HUGE_MIN:
        return
    start = (address + _HUGE - 1) & ~(_HUGE - 1)
    end = (address + size) & ~(_HUGE - 1)
    if end > start:
        _MADVISE(start, end - start, _MADV_HUGEPAGE)


def _serialize_copied(native: Any, decode: Callable[..., Any]) -> str:
    """``native.serialize()``, decoded from the native buffer itself."""
    buf = _ffi._uniffi_rust_call_with_error(
        None,
        _ffi._UniffiLib.uniffi_idflow_ffi_fn_method_tokencache_serialize,
        native._uniffi_clone_handle(),
    )
    try:
        if buf.len == 0:
            return ""
        return decode(ctypes.cast(buf.data, ctypes.c_void_p), buf.len, b"strict")
    finally:
        buf.free()


def serialize(native: Any) -> str:
    """``native.serialize()``, written by the native side into the new
    ``str`` itself when it fits and is ASCII (a cache of tokens always is)."""
    if _API is None:
        return native.serialize()
    decode, as_utf8, new = _API
    size = native.serialized_len_hint()
    if not 0 < size <= _MAX_LENT:
        return _serialize_copied(native, decode)
    # A compact ASCII string: its characters are its bytes, uninitialized
    # until the native side writes them, and nothing reads them before.
    text = new(size, 127)
    got = ctypes.c_ssize_t(0)
    address = as_utf8(text, ctypes.byref(got))
    if not address or got.value != size:
        return _serialize_copied(native, decode)
    _ask_huge_pages(address, size)
    filled = native.serialize_into_address(address, size)
    if filled is None:
        # It did not fit (an escaped string, or the cache grew meanwhile).
        return _serialize_copied(native, decode)
    if not filled.ascii:
        # UTF-8 text is not a valid ASCII string: decoded into a new one
        # (``text`` is dropped unread).
        return decode(address, filled.len, b"strict")
    if filled.len != size:
        # Shorter than predicted (an extra member's number).
        return text[: filled.len]
    return text


def deserialize_str(native: Any, state: str) -> None:
    """``native.deserialize_utf8(state.encode())`` without the encode when
    ``state`` is ASCII (msal's and idflow's JSON nearly always are): CPython
    keeps such a string's UTF-8 as its own data, which the native reader
    reads in place while this call holds ``state``."""
    if _API is None or not state or not state.isascii() or len(state) > _MAX_LENT:
        native.deserialize_utf8(state.encode("utf-8", "surrogatepass") or b"{}")
        return
    as_utf8 = _API[1]
    size = ctypes.c_ssize_t(0)
    address = as_utf8(state, ctypes.byref(size))
    lent = _ffi._UniffiForeignBytes()
    lent.len = size.value
    lent.data = ctypes.cast(address, ctypes.POINTER(ctypes.c_char))
    _ffi._uniffi_rust_call_with_error(
        _ffi._UniffiFfiConverterTypeAuthError,
        _ffi._UniffiLib.uniffi_idflow_ffi_fn_method_tokencache_deserialize_utf8,
        native._uniffi_clone_handle(),
        lent,
    )
