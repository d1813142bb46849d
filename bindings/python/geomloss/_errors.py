"""Exceptions raised by the binding.

Every error reported by libgeomloss becomes a :class:`GeomLossError` that also
derives from the built-in type GeomLoss itself would raise (or that a Python
user expects), so ``except ValueError`` keeps working:

============================  =====================================
library status                Python exception
============================  =====================================
SHAPE, SIZE, VALUE,           :class:`GeomLossValueError` (ValueError)
INVALID_ARGUMENT,
NULL_POINTER,
INVALID_OPTION
INVALID_OPTION for an         :class:`GeomLossOptionError` (ValueError
unknown loss/backend name     *and* KeyError, as GeomLoss raises KeyError)
MEMORY                        :class:`GeomLossMemoryError` (MemoryError)
UNSUPPORTED                   :class:`GeomLossNotImplementedError`
                              (NotImplementedError)
INTERNAL                      :class:`GeomLossInternalError` (RuntimeError)
DEVICE                        :class:`GeomLossDeviceError` (RuntimeError)
CANCELLED                     :class:`GeomLossCancelledError`
                              (RuntimeError); a cancel caused by Ctrl-C
                              re-raises the KeyboardInterrupt instead
============================  =====================================

The message is the library's own (e.g. ``"y has 4 columns but x has 3"``).
"""

# Status codes of include/geomloss.h (enum geomloss_status), generated into _abi.
from ._abi import (OK, ERR_INVALID_ARGUMENT, ERR_INVALID_OPTION, ERR_SHAPE, ERR_VALUE,  # noqa: F401
                   ERR_MEMORY, ERR_UNSUPPORTED, ERR_INTERNAL, ERR_NULL_POINTER, ERR_SIZE,
                   ERR_CANCELLED, ERR_DEVICE)


class GeomLossError(Exception):
    """Base class of the binding's errors; ``status`` is the library's code."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self):
        return self.message


class GeomLossValueError(GeomLossError, ValueError):
    """Bad shapes, sizes, values or options."""


class GeomLossOptionError(GeomLossValueError, KeyError):
    """An unknown loss or backend name (GeomLoss raises KeyError there)."""

    # KeyError.__str__ would print the repr of the message.
    __str__ = GeomLossError.__str__


class GeomLossMemoryError(GeomLossError, MemoryError):
    """The problem exceeds a documented memory cap (e.g. the tensorized backend's)."""


class GeomLossNotImplementedError(GeomLossError, NotImplementedError):
    """A valid request that this build cannot serve (labels, custom costs, ...)."""


class GeomLossInternalError(GeomLossError, RuntimeError):
    """A bug in the library."""


class GeomLossDeviceError(GeomLossError, RuntimeError):
    """A device (GPU) failed: launch failure, lost context, driver error."""


class GeomLossCancelledError(GeomLossError, RuntimeError):
    """The evaluation was cancelled (by an exception in the progress callback)."""


_BY_STATUS = {
    ERR_INVALID_ARGUMENT: GeomLossValueError,
    ERR_INVALID_OPTION: GeomLossValueError,
    ERR_SHAPE: GeomLossValueError,
    ERR_VALUE: GeomLossValueError,
    ERR_MEMORY: GeomLossMemoryError,
    ERR_UNSUPPORTED: GeomLossNotImplementedError,
    ERR_INTERNAL: GeomLossInternalError,
    ERR_NULL_POINTER: GeomLossValueError,
    ERR_SIZE: GeomLossValueError,
    ERR_CANCELLED: GeomLossCancelledError,
    ERR_DEVICE: GeomLossDeviceError,
}


def error_for_status(status, message):
    """The exception to raise for a library status and its message."""
    cls = _BY_STATUS.get(status, GeomLossInternalError)
    if not message:
        message = "libgeomloss failed with status %d" % status
    return cls(message, status)
