"""idflow's log lines in Python's :mod:`logging`, under the ``idflow`` logger.

The native library logs nothing until a logger is set. :func:`sync` sets one
when the ``idflow`` logger (or an ancestor) has a real handler, at the level
that logger lets through, and removes it otherwise; applications call it when
they are created, and :func:`idflow.configure_logging` calls it after the app
changes its logging setup. Each record carries ``idflow_contains_pii``
(``True`` only for lines that show personal data, which happens only after
``enable_pii_log=True``). Tokens and secrets are never logged.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from ._common import _ffi

LOGGER_NAME = "idflow"
#: Below DEBUG: the native library's most verbose lines.
TRACE = 5

_logger = logging.getLogger(LOGGER_NAME)
# A library never prints by default: without the app's own handler the
# records stop here instead of reaching logging's last-resort stderr handler.
_logger.addHandler(logging.NullHandler())

_TO_PY = {
    _ffi.LogLevel.ERROR: logging.ERROR,
    _ffi.LogLevel.WARNING: logging.WARNING,
    _ffi.LogLevel.INFO: logging.INFO,
    _ffi.LogLevel.DEBUG: logging.DEBUG,
    _ffi.LogLevel.TRACE: TRACE,
}


class _Bridge(_ffi.Logger):
    """The native library's logger: one record per line."""

    def log(self, level: Any, message: str, contains_pii: bool) -> None:
        try:
            _logger.log(_TO_PY.get(level, logging.DEBUG), "%s", message,
                        extra={"idflow_contains_pii": bool(contains_pii)})
        except Exception:  # a broken handler must not break a sign-in
            pass


_bridge = _Bridge()


def _has_real_handler(logger: logging.Logger) -> bool:
    current: Optional[logging.Logger] = logger
    while current is not None:
        if any(not isinstance(h, logging.NullHandler) for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent  # type: ignore[assignment]
    return False


def _native_level(py_level: int) -> Any:
    if py_level <= TRACE:
        return _ffi.LogLevel.TRACE
    if py_level <= logging.DEBUG:
        return _ffi.LogLevel.DEBUG
    if py_level <= logging.INFO:
        return _ffi.LogLevel.INFO
    if py_level <= logging.WARNING:
        return _ffi.LogLevel.WARNING
    return _ffi.LogLevel.ERROR


def sync(enable_pii_log: Optional[bool] = None) -> None:
    """Matches the native logger to the ``idflow`` logger's level and handlers.

    ``enable_pii_log=True`` lets lines show personal data, ``False`` stops
    it, ``None`` leaves it as it is. The switch is process-wide (msal's is
    per app): the last app created with True or False decides."""
    if enable_pii_log is not None:
        _ffi.set_pii_logging_enabled(bool(enable_pii_log))
    try:
        if _logger.disabled or not _has_real_handler(_logger):
            _ffi.set_logger(None, _ffi.LogLevel.ERROR)
        else:
            _ffi.set_logger(_bridge, _native_level(_logger.getEffectiveLevel()))
    except _ffi.AuthError:
        # Another tracing subscriber owns the process (a Rust host): its choice.
        pass
