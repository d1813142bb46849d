"""Finding, loading and calling libgeomloss through ctypes.

This module is the only one that knows the C ABI (include/geomloss.h). It works
on NumPy arrays only; the NumPy and PyTorch front ends convert to and from it.

Search order for the shared library (the first hit wins):

1. the environment variable ``GEOMLOSS_LIBRARY``: the path of the library
   file, or of a directory holding ``libgeomloss.so``; if it is set and names
   nothing loadable, that is an error (no silent fallback);
2. the copy bundled inside the installed package (``geomloss/_lib/``), put
   there by ``pip install`` (see setup.py);
3. the checkout's ``dist/lib/`` (after ``make lib``), when this package is
   imported from ``bindings/python`` of a checkout (``PYTHONPATH=bindings/python``).
"""

import contextlib
import ctypes
import math
import os
import signal
import sys
import threading
import weakref
from pathlib import Path

import numpy as np

from . import _errors
from ._errors import error_for_status, GeomLossOptionError, GeomLossValueError

LIBRARY_ENV = "GEOMLOSS_LIBRARY"

if sys.platform == "darwin":
    _FILE_NAMES = ("libgeomloss.dylib", "libgeomloss.0.dylib")
elif sys.platform == "win32":
    _FILE_NAMES = ("geomloss.dll", "libgeomloss.dll")
else:
    _FILE_NAMES = ("libgeomloss.so", "libgeomloss.so.0")

_PACKAGE_DIR = Path(__file__).resolve().parent

# The ABI's constants (option keys, names, buffer keys), generated from the header.
from ._abi import (OPT_LOSS, OPT_P, OPT_BLUR, OPT_REACH, OPT_DIAMETER, OPT_SCALING,  # noqa: E402
                   OPT_TRUNCATE, OPT_CLUSTER_SCALE, OPT_DEBIAS, OPT_BACKEND, OPT_THREADS,
                   OPT_DEVICE, LOSS_NAMES, BACKEND_NAMES, DEVICE_NAMES, F32, F64)
from . import _abi  # noqa: E402

# int (*)(const char *stage, int64_t iter, int64_t total, void *user_data)
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64,
                               ctypes.c_void_p)


class LibraryNotFoundError(OSError):
    """libgeomloss could not be found or loaded."""


def _in_dir(directory):
    for name in _FILE_NAMES:
        p = Path(directory) / name
        if p.is_file():
            return p
    return None


def _checkout_root():
    """The repository root when this package lives in <root>/bindings/python."""
    root = _PACKAGE_DIR.parent.parent.parent
    if (_PACKAGE_DIR.parent.name == "python" and _PACKAGE_DIR.parent.parent.name == "bindings"
            and (root / "include" / "geomloss.h").is_file()):
        return root
    return None


def find_library():
    """The path of the libgeomloss shared library this package will load.

    Raises LibraryNotFoundError, naming every place it looked, when there is none.
    """
    env = os.environ.get(LIBRARY_ENV)
    if env:
        p = Path(env).expanduser()
        if p.is_dir():
            hit = _in_dir(p)
            if hit is None:
                raise LibraryNotFoundError(
                    "%s=%s is a directory without %s" % (LIBRARY_ENV, env, " or ".join(_FILE_NAMES)))
            return str(hit)
        if p.is_file():
            return str(p)
        raise LibraryNotFoundError("%s=%s: no such file" % (LIBRARY_ENV, env))
    looked = []
    bundled = _PACKAGE_DIR / "_lib"
    hit = _in_dir(bundled)
    if hit is not None:
        return str(hit)
    looked.append(str(bundled))
    root = _checkout_root()
    if root is not None:
        hit = _in_dir(root / "dist" / "lib")
        if hit is not None:
            return str(hit)
        looked.append(str(root / "dist" / "lib") + " (run `make lib` in the checkout)")
    raise LibraryNotFoundError(
        "libgeomloss not found: set %s to the library's path, or install the package with "
        "the library bundled (pip install bindings/python after `make lib`); looked in: %s"
        % (LIBRARY_ENV, "; ".join(looked)))


_lock = threading.Lock()
_lib = None
_lib_path = None
_loads = 0  # how many times this process has loaded the library (0 or 1)


def _declare(lib):
    c_int, c_int64, c_double, c_char_p, c_void_p = (
        ctypes.c_int, ctypes.c_int64, ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p)
    sig = {
        "geomloss_version": (c_char_p, []),
        "geomloss_version_number": (c_int, []),
        "geomloss_status_string": (c_char_p, [c_int]),
        "geomloss_last_error": (c_char_p, []),
        "geomloss_value_name": (c_char_p, [c_int, c_int]),
        "geomloss_options_create": (c_void_p, []),
        "geomloss_options_destroy": (None, [c_void_p]),
        "geomloss_options_set_int": (c_int, [c_void_p, c_int, c_int64]),
        "geomloss_options_set_double": (c_int, [c_void_p, c_int, c_double]),
        "geomloss_options_set_string": (c_int, [c_void_p, c_int, c_char_p]),
        "geomloss_options_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
        "geomloss_last_backend": (c_int, []),
        "geomloss_last_device": (c_int, []),
        "geomloss_last_engine": (c_char_p, []),
        "geomloss_last_note": (c_char_p, []),
        "geomloss_buffers_create": (c_void_p, []),
        "geomloss_buffers_destroy": (None, [c_void_p]),
        "geomloss_buffers_set": (c_int, [c_void_p, c_int, c_void_p, c_int64]),
        "geomloss_eval": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_int64, c_void_p]),
        "geomloss_ot_solve_sample": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_void_p]),
        "geomloss_ot_solve": (c_int, [c_void_p, c_int, c_int64, c_int64, c_void_p]),
        "geomloss_ot_solve_sample_plan": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_void_p,
                                                  ctypes.POINTER(ctypes.c_uint64)]),
        "geomloss_ot_solve_sample_batch": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_int64,
                                                   c_void_p]),
        "geomloss_ot_solve_batch": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_void_p]),
        "geomloss_ot_solve_plan": (c_int, [c_void_p, c_int, c_int64, c_int64, c_void_p,
                                           ctypes.POINTER(ctypes.c_uint64)]),
        "geomloss_ot_solve_sample_batch_plan": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_int64,
                                                        c_void_p, ctypes.POINTER(ctypes.c_uint64)]),
        "geomloss_ot_solve_batch_plan": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int64, c_void_p,
                                                 ctypes.POINTER(ctypes.c_uint64)]),
        "geomloss_plan_eval": (c_int, [ctypes.c_uint64, c_void_p]),
        "geomloss_plan_info": (c_int, [ctypes.c_uint64, ctypes.POINTER(c_int), ctypes.POINTER(c_int64),
                                       ctypes.POINTER(c_int64), ctypes.POINTER(c_int64)]),
        "geomloss_plan_free": (c_int, [ctypes.c_uint64]),
        "geomloss_eval_grid": (c_int, [c_void_p, c_int, c_int64, c_int, c_void_p, c_void_p,
                                       c_void_p]),
        "geomloss_images_barycenter": (c_int, [c_void_p, c_int, c_int64, c_int64, c_int, c_void_p,
                                               c_void_p, c_int64, c_int64, c_void_p, c_void_p,
                                               c_void_p, c_void_p, c_void_p, c_void_p]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def load():
    """The loaded library (a ctypes.CDLL), loading it on first use."""
    global _lib, _lib_path, _loads
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = find_library()
            try:
                lib = ctypes.CDLL(path)
                _declare(lib)
            except (OSError, AttributeError) as e:
                hint = ""
                if "static TLS" in str(e):
                    hint = (" (the library's thread-local storage does not fit in the static TLS "
                            "space glibc reserves for dlopen; as a workaround start Python with "
                            "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536)")
                raise LibraryNotFoundError("cannot load libgeomloss from %s: %s%s"
                                           % (path, e, hint)) from e
            _lib_path = path
            _lib = lib
            _loads += 1
    return _lib


def library_path():
    """The path of the loaded library (loading it if needed)."""
    load()
    return _lib_path


def library_version():
    """The version string of the loaded library, e.g. "0.1.0"."""
    return load().geomloss_version().decode()


def _last_error(lib):
    msg = lib.geomloss_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def _last_run(lib):
    """The calling thread's last-run report (geomloss_last_backend/_device/_engine/_note)."""
    return {
        "backend": BACKEND_NAMES.get(lib.geomloss_last_backend(), "unknown"),
        "device": DEVICE_NAMES.get(lib.geomloss_last_device(), "unknown"),
        "engine": lib.geomloss_last_engine().decode(),
        "note": lib.geomloss_last_note().decode(),
    }


def _check(lib, status):
    if status != _errors.OK:
        raise error_for_status(status, _last_error(lib))


def _as_number(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GeomLossValueError("%s: must be a number, got %r" % (name, value)) from None
    return v


class Settings:
    """SamplesLoss's parameters as the library sees them (a plain record)."""

    __slots__ = ("loss", "p", "blur", "reach", "diameter", "scaling", "truncate",
                 "cluster_scale", "debias", "backend", "threads", "device", "tol", "max_iter")

    def __init__(self, loss="sinkhorn", p=2, blur=0.05, reach=None, diameter=None, scaling=0.5,
                 truncate=5, cluster_scale=None, debias=True, backend="auto", threads=None,
                 device=None, tol=None, max_iter=None):
        self.tol, self.max_iter = tol, max_iter
        self.loss, self.p, self.blur, self.reach = loss, p, blur, reach
        self.diameter, self.scaling, self.truncate = diameter, scaling, truncate
        self.cluster_scale, self.debias, self.backend = cluster_scale, debias, backend
        self.threads, self.device = threads, device


def _set_name(lib, opts, key, what, value, allowed):
    if not isinstance(value, str):
        raise GeomLossOptionError("%s: must be one of %s, got %r" % (what, ", ".join(allowed), value),
                                  _errors.ERR_INVALID_OPTION)
    st = lib.geomloss_options_set_string(opts, key, value.encode())
    if st == _errors.ERR_INVALID_OPTION:
        raise GeomLossOptionError(_last_error(lib) or "%s: unknown value %r" % (what, value), st)
    _check(lib, st)


def _configure(lib, opts, s):
    _set_name(lib, opts, OPT_LOSS, "loss", s.loss, tuple(LOSS_NAMES.values()))
    p = _as_number("p", s.p)
    if not math.isfinite(p) or p != int(p):
        raise GeomLossValueError("p: must be 1 or 2, got %r" % (s.p,), _errors.ERR_INVALID_OPTION)
    _check(lib, lib.geomloss_options_set_int(opts, OPT_P, int(p)))
    _check(lib, lib.geomloss_options_set_double(opts, OPT_BLUR, _as_number("blur", s.blur)))
    if s.reach is not None:
        _check(lib, lib.geomloss_options_set_double(opts, OPT_REACH, _as_number("reach", s.reach)))
    if s.diameter is not None:
        _check(lib, lib.geomloss_options_set_double(opts, OPT_DIAMETER,
                                                    _as_number("diameter", s.diameter)))
    _check(lib, lib.geomloss_options_set_double(opts, OPT_SCALING, _as_number("scaling", s.scaling)))
    trunc = math.inf if s.truncate is None else _as_number("truncate", s.truncate)
    _check(lib, lib.geomloss_options_set_double(opts, OPT_TRUNCATE, trunc))
    if s.cluster_scale is not None:
        _check(lib, lib.geomloss_options_set_double(opts, OPT_CLUSTER_SCALE,
                                                    _as_number("cluster_scale", s.cluster_scale)))
    _check(lib, lib.geomloss_options_set_int(opts, OPT_DEBIAS, 1 if s.debias else 0))
    _set_name(lib, opts, OPT_BACKEND, "backend", s.backend, tuple(BACKEND_NAMES.values()))
    if s.threads is not None:
        t = s.threads
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise GeomLossValueError("threads: must be an integer (0 = all cores), got %r" % (t,),
                                     _errors.ERR_INVALID_OPTION)
        if not -2**63 <= int(t) < 2**63:
            raise GeomLossValueError("threads: must lie in [0, 65536] (0 = all cores), got %d" % t,
                                     _errors.ERR_INVALID_OPTION)
        _check(lib, lib.geomloss_options_set_int(opts, OPT_THREADS, int(t)))
    if s.device is not None:
        _set_name(lib, opts, OPT_DEVICE, "device", s.device, tuple(DEVICE_NAMES.values()))
    _set_tol(lib, opts, s.tol, s.max_iter)


class _Progress:
    """The ctypes progress callback of one evaluation, always installed.

    It turns Ctrl-C into a cancel. The library calls it on the calling thread
    with a heartbeat at least every 100 ms, and Python runs its signal
    handlers when Python code runs on the main thread, so SIGINT is seen
    within a heartbeat. A KeyboardInterrupt raised by the default handler may
    surface at the callback's very first instruction, outside any try, where
    ctypes would print and swallow it; so while the call runs on the main
    thread (with the default SIGINT handler), a handler that only records the
    signal replaces it, the callback then returns non-zero (the library stops
    and returns GEOMLOSS_ERR_CANCELLED) and evaluate() raises
    KeyboardInterrupt. An exception raised in the callback (the user's
    progress function, or a KeyboardInterrupt from a custom handler) cancels
    the same way and is re-raised. Heartbeats repeat the latest report: the
    user's function sees each report once.
    """

    def __init__(self, user):
        self.user = user
        self.last = None
        self.exception = None
        self.interrupted = False
        self._previous = None
        self.fn = PROGRESS_FN(self._call)  # referenced until the evaluation returns

    def _on_sigint(self, signum, frame):
        self.interrupted = True

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def raise_pending(self):
        """Raises what cancelled the evaluation, if anything did."""
        if self.exception is not None:
            raise self.exception
        if self.interrupted:
            raise KeyboardInterrupt

    def _call(self, stage, it, total, _user_data):
        try:
            if self.interrupted or self.exception is not None:
                return 1
            report = (stage.decode("utf-8", "replace") if stage else "", int(it), int(total))
            if report != self.last:
                self.last = report
                if self.user is not None:
                    self.user(*report)
            return 1 if self.interrupted else 0
        except BaseException as e:  # never let an exception unwind through C
            self.exception = e
            return 1


def evaluate(settings, x, y, a=None, b=None, *, cot_value=None, cot_F=None, cot_G=None,
             potentials=False, grad_x=False, grad_y=False, grad_a=False, grad_b=False,
             labels_x=None, labels_y=None, progress=None):
    """One call of geomloss_eval, with keyed buffers.

    x: (B, N, D), y: (B, M, D), a: (B, N) or None, b: (B, M) or None, all
    C-contiguous arrays of one dtype, float32 or float64 (the caller converts).
    Cotangents: (B,), (B, N), (B, M) or None. labels_x (B, N), labels_y
    (B, M): C-contiguous int64 cluster labels, or None. progress: None or a callable
    (stage: str, iteration: int, total: int), called once per report.

    Returns a dict with "value" (B,), and "F", "G", "grad_x", "grad_y",
    "grad_a", "grad_b" when asked, plus "run": the last-run report
    (backend, device, engine, note). Ctrl-C during the call cancels it and
    raises KeyboardInterrupt.
    """
    lib = load()
    dtype = x.dtype
    if dtype == np.float64:
        code = F64
    elif dtype == np.float32:
        code = F32
    else:  # pragma: no cover - the front ends convert first
        raise TypeError("evaluate: x must be float32 or float64, got %s" % dtype)
    B, N, D = x.shape
    M = y.shape[1]
    for name, arr, shape in (("y", y, (B, M, D)), ("a", a, (B, N)), ("b", b, (B, M)),
                             ("cot_value", cot_value, (B,)), ("cot_F", cot_F, (B, N)),
                             ("cot_G", cot_G, (B, M))):
        if arr is not None and (arr.dtype != dtype or arr.shape != shape
                                or not arr.flags.c_contiguous):
            raise AssertionError("evaluate: %s must be a C-contiguous %s array of shape %s"
                                 % (name, dtype, shape))  # pragma: no cover
    for name, arr, shape in (("labels_x", labels_x, (B, N)), ("labels_y", labels_y, (B, M))):
        if arr is not None and (arr.dtype != np.int64 or arr.shape != shape
                                or not arr.flags.c_contiguous):
            raise AssertionError("evaluate: %s must be a C-contiguous int64 array of shape %s"
                                 % (name, shape))  # pragma: no cover

    out = {"value": np.empty(B, dtype)}
    if potentials:
        out["F"] = np.empty((B, N), dtype)
        out["G"] = np.empty((B, M), dtype)
    if grad_x:
        out["grad_x"] = np.empty((B, N, D), dtype)
    if grad_y:
        out["grad_y"] = np.empty((B, M, D), dtype)
    if grad_a:
        out["grad_a"] = np.empty((B, N), dtype)
    if grad_b:
        out["grad_b"] = np.empty((B, M), dtype)
    arrays = {_abi.BUF_X: x, _abi.BUF_Y: y, _abi.BUF_A: a, _abi.BUF_B: b,
              _abi.BUF_COT_VALUE: cot_value, _abi.BUF_COT_F: cot_F, _abi.BUF_COT_G: cot_G,
              _abi.BUF_VALUE: out["value"], _abi.BUF_F: out.get("F"), _abi.BUF_G: out.get("G"),
              _abi.BUF_GRAD_X: out.get("grad_x"), _abi.BUF_GRAD_Y: out.get("grad_y"),
              _abi.BUF_GRAD_A: out.get("grad_a"), _abi.BUF_GRAD_B: out.get("grad_b"),
              _abi.BUF_LABELS_X: labels_x, _abi.BUF_LABELS_Y: labels_y}

    callback = _Progress(progress)
    with _options(lib) as opts:
        _configure(lib, opts, settings)
        _check(lib, lib.geomloss_options_set_progress(opts, callback.fn, None))
        with _buffers(lib, arrays) as bufs, callback:
            st = lib.geomloss_eval(opts, code, B, N, M, D, bufs)
        callback.raise_pending()
        if st != _errors.OK:
            raise error_for_status(st, _last_error(lib))
        out["run"] = _last_run(lib)
    return out


@contextlib.contextmanager
def _options(lib):
    """A geomloss_options handle, destroyed on leaving the block."""
    opts = lib.geomloss_options_create()
    if not opts:
        raise MemoryError(_last_error(lib) or "geomloss_options_create failed")
    try:
        yield opts
    finally:
        lib.geomloss_options_destroy(opts)


@contextlib.contextmanager
def _buffers(lib, arrays):
    """A geomloss_buffers handle holding every array of arrays (key: array)
    that is not None, destroyed on leaving the block."""
    bufs = lib.geomloss_buffers_create()
    if not bufs:  # pragma: no cover
        raise MemoryError(_last_error(lib) or "geomloss_buffers_create failed")
    try:
        for key, arr in arrays.items():
            if arr is not None:
                _check(lib, lib.geomloss_buffers_set(bufs, key, arr.ctypes.data, arr.size))
        yield bufs
    finally:
        lib.geomloss_buffers_destroy(bufs)


def _set_tol(lib, opts, tol, max_iter):
    """GEOMLOSS_OPT_TOL and _MAX_ITER (None: the defaults)."""
    if tol is not None:
        _check(lib, lib.geomloss_options_set_double(opts, _abi.OPT_TOL, _as_number("tol", tol)))
    if max_iter is not None:
        if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)):
            raise GeomLossValueError("max_iter: must be an integer, got %r" % (max_iter,),
                                     _errors.ERR_INVALID_OPTION)
        _check(lib, lib.geomloss_options_set_int(opts, _abi.OPT_MAX_ITER, int(max_iter)))


# The OT outputs: name -> (buffer key, shape from (N, M, D, K, L)).
OT_OUTPUTS = {
    "value": (_abi.BUF_VALUE, lambda N, M, D, K, L: (1,)),
    "value_linear": (_abi.BUF_VALUE_LINEAR, lambda N, M, D, K, L: (1,)),
    "F": (_abi.BUF_F, lambda N, M, D, K, L: (N,)),
    "G": (_abi.BUF_G, lambda N, M, D, K, L: (M,)),
    "F_aa": (_abi.BUF_F_AA, lambda N, M, D, K, L: (N,)),
    "G_bb": (_abi.BUF_G_BB, lambda N, M, D, K, L: (M,)),
    "marginal_a": (_abi.BUF_MARGINAL_A, lambda N, M, D, K, L: (N,)),
    "marginal_b": (_abi.BUF_MARGINAL_B, lambda N, M, D, K, L: (M,)),
    "a_to_b": (_abi.BUF_A_TO_B, lambda N, M, D, K, L: (N, D)),
    "b_to_a": (_abi.BUF_B_TO_A, lambda N, M, D, K, L: (M, D)),
    "plan_v": (_abi.BUF_PLAN_V, lambda N, M, D, K, L: (N, K)),
    "plan_t_u": (_abi.BUF_PLAN_T_U, lambda N, M, D, K, L: (M, L)),
    "plan": (_abi.BUF_PLAN, lambda N, M, D, K, L: (N, M)),
    "n_iter": (_abi.BUF_N_ITER, lambda N, M, D, K, L: (1,)),
    "marginal_error": (_abi.BUF_MARGINAL_ERROR, lambda N, M, D, K, L: (1,)),
    "value_grad_x": (_abi.BUF_VALUE_GRAD_X, lambda N, M, D, K, L: (N, D)),
    "value_grad_y": (_abi.BUF_VALUE_GRAD_Y, lambda N, M, D, K, L: (M, D)),
}


class PlanHandle:
    """A plan kept by the library (geomloss_ot_solve_sample_plan): products,
    marginals, maps and the dense plan from it (geomloss_plan_eval) without
    solving again, each equal bit for bit to the solve's. Freed by close()
    or when garbage-collected (geomloss_plan_free, once)."""

    def __init__(self, lib, handle, dtype, N, M, D):
        self.handle, self.dtype, self.N, self.M, self.D = handle, dtype, N, M, D
        self._free = weakref.finalize(self, lib.geomloss_plan_free, handle)

    def eval(self, want, v=None, u=None):
        """The outputs named in want (of OT_OUTPUTS: "plan_v" with v (M, K),
        "plan_t_u" with u (N, L), "plan", "marginal_a", "a_to_b", ...)."""
        if not self._free.alive:
            raise GeomLossValueError("plan: the plan was closed", _errors.ERR_INVALID_ARGUMENT)
        lib = load()
        K = 0 if v is None else v.shape[1]
        L = 0 if u is None else u.shape[1]
        out = {name: np.empty(OT_OUTPUTS[name][1](self.N, self.M, self.D, K, L), self.dtype) for name in want}
        arrays = {_abi.BUF_V: v, _abi.BUF_U: u}
        for name, arr in out.items():
            arrays[OT_OUTPUTS[name][0]] = arr
        with _buffers(lib, arrays) as bufs:
            st = lib.geomloss_plan_eval(self.handle, bufs)
        if st != _errors.OK:
            raise error_for_status(st, _last_error(lib))
        return out

    def close(self):
        """Frees the plan now (idempotent)."""
        self._free()


def ot_solve(problem, want, v=None, u=None, progress=None, keep_plan=False):
    """One call of geomloss_ot_solve_sample (problem["C"] is None) or
    geomloss_ot_solve, with keyed buffers; keep_plan calls their _plan
    variants and adds "plan_handle" (a PlanHandle) to the result. Batched
    arrays ((B, N, D) points, (B, N, M) matrices, (B, ...) weights) call the
    _batch entries (_batch_plan with keep_plan: "plan_handles", a list of B
    PlanHandles, item b's at b), and every output has the leading B axis.

    problem: a dict with the C-contiguous arrays "x" (N, D), "y" (M, D) or
    "C" (N, M), "a" (N,) / "b" (M,) or None, all of one dtype (float32 or
    float64), and the options "cost" (a name), "q", "reg", "blur", "unbalanced",
    "reach", "debias", "tol", "max_iter", "scaling", "diameter", "backend",
    "threads" (None: the library's default). want: names of OT_OUTPUTS to
    compute; v (M, K) and u (N, L) the factors of "plan_v" and "plan_t_u".
    Returns a dict name -> array, plus "run" (the last-run report).
    """
    lib = load()
    C = problem.get("C")
    ref = C if C is not None else problem["x"]
    dtype = ref.dtype
    code = F64 if dtype == np.float64 else F32
    batch = ref.ndim == 3  # (B, N, D) points or (B, N, M) matrices: the _batch entries
    Bn = ref.shape[0] if batch else 1
    if C is not None:
        N, M = C.shape[-2:]
        D = 1
    else:
        N, D = problem["x"].shape[-2:]
        M = problem["y"].shape[-2]
    K = 0 if v is None else v.shape[-1]
    L = 0 if u is None else u.shape[-1]
    lead = (Bn,) if batch else ()
    out = {name: np.empty(lead + OT_OUTPUTS[name][1](N, M, D, K, L), dtype) for name in want}
    arrays = {_abi.BUF_A: problem.get("a"), _abi.BUF_B: problem.get("b"), _abi.BUF_V: v, _abi.BUF_U: u}
    if C is not None:
        arrays[_abi.BUF_C] = C
    else:
        arrays[_abi.BUF_X], arrays[_abi.BUF_Y] = problem["x"], problem["y"]
    for name, arr in out.items():
        arrays[OT_OUTPUTS[name][0]] = arr
    callback = _Progress(progress)
    with _options(lib) as opts:
        _set_name(lib, opts, _abi.OPT_COST, "cost", problem.get("cost", "sqeuclidean"),
                  tuple(_abi.COST_NAMES.values()))
        for key, name in ((_abi.OPT_REG, "reg"), (_abi.OPT_BLUR, "blur"),
                          (_abi.OPT_UNBALANCED, "unbalanced"), (_abi.OPT_REACH, "reach"),
                          (_abi.OPT_SCALING, "scaling"), (_abi.OPT_DIAMETER, "diameter"),
                          (_abi.OPT_Q, "q")):
            if problem.get(name) is not None:
                _check(lib, lib.geomloss_options_set_double(opts, key, _as_number(name, problem[name])))
        _check(lib, lib.geomloss_options_set_int(opts, OPT_DEBIAS, 1 if problem.get("debias") else 0))
        _set_tol(lib, opts, problem.get("tol"), problem.get("max_iter"))
        if problem.get("backend") is not None:
            _set_name(lib, opts, OPT_BACKEND, "backend", problem["backend"], tuple(BACKEND_NAMES.values()))
        if problem.get("threads") is not None:
            _check(lib, lib.geomloss_options_set_int(opts, OPT_THREADS, int(problem["threads"])))
        _check(lib, lib.geomloss_options_set_progress(opts, callback.fn, None))
        handle = ctypes.c_uint64(0)
        handles = (ctypes.c_uint64 * Bn)()
        with _buffers(lib, arrays) as bufs, callback:
            if batch and C is not None and keep_plan:
                st = lib.geomloss_ot_solve_batch_plan(opts, code, Bn, N, M, bufs, handles)
            elif batch and keep_plan:
                st = lib.geomloss_ot_solve_sample_batch_plan(opts, code, Bn, N, M, D, bufs, handles)
            elif batch and C is not None:
                st = lib.geomloss_ot_solve_batch(opts, code, Bn, N, M, bufs)
            elif batch:
                st = lib.geomloss_ot_solve_sample_batch(opts, code, Bn, N, M, D, bufs)
            elif C is not None and keep_plan:
                st = lib.geomloss_ot_solve_plan(opts, code, N, M, bufs, ctypes.byref(handle))
            elif C is not None:
                st = lib.geomloss_ot_solve(opts, code, N, M, bufs)
            elif keep_plan:
                st = lib.geomloss_ot_solve_sample_plan(opts, code, N, M, D, bufs, ctypes.byref(handle))
            else:
                st = lib.geomloss_ot_solve_sample(opts, code, N, M, D, bufs)
        if keep_plan and st == _errors.OK and batch:
            out["plan_handles"] = [PlanHandle(lib, h, dtype, N, M, 0 if C is not None else D) for h in handles]
        elif keep_plan and st == _errors.OK:
            out["plan_handle"] = PlanHandle(lib, handle.value, dtype, N, M, 0 if C is not None else D)
        callback.raise_pending()
        if st != _errors.OK:
            raise error_for_status(st, _last_error(lib))
        out["run"] = _last_run(lib)
    return out


class GridSettings:
    """sinkhorn_divergence's parameters on grids (blur None: the pixel width)."""

    __slots__ = ("p", "blur", "reach", "scaling", "debias", "diameter", "threads", "device",
                 "single_scale")

    def __init__(self, p=2, blur=None, reach=None, scaling=0.5, debias=True, diameter=None,
                 threads=None, device=None, single_scale=False):
        self.p, self.blur, self.reach, self.scaling = p, blur, reach, scaling
        self.debias, self.diameter, self.threads, self.device = debias, diameter, threads, device
        self.single_scale = single_scale


def _configure_grid(lib, opts, s):
    p = _as_number("p", s.p)
    if not math.isfinite(p) or p != int(p):
        raise GeomLossValueError("p: must be 1 or 2, got %r" % (s.p,), _errors.ERR_INVALID_OPTION)
    _check(lib, lib.geomloss_options_set_int(opts, OPT_P, int(p)))
    if s.blur is not None:  # not set: the library's pixel width
        _check(lib, lib.geomloss_options_set_double(opts, OPT_BLUR, _as_number("blur", s.blur)))
    if s.reach is not None:
        _check(lib, lib.geomloss_options_set_double(opts, OPT_REACH, _as_number("reach", s.reach)))
    if s.diameter is not None:
        _check(lib, lib.geomloss_options_set_double(opts, OPT_DIAMETER,
                                                    _as_number("diameter", s.diameter)))
    if s.scaling is not None:
        _check(lib, lib.geomloss_options_set_double(opts, OPT_SCALING,
                                                    _as_number("scaling", s.scaling)))
    if s.debias is not None:
        _check(lib, lib.geomloss_options_set_int(opts, OPT_DEBIAS, 1 if s.debias else 0))
    if s.single_scale:
        if not isinstance(s.single_scale, (bool, np.bool_)):
            raise TypeError("single_scale: must be a bool, got %r" % (s.single_scale,))
        _check(lib, lib.geomloss_options_set_int(opts, _abi.OPT_SINGLE_SCALE, 1))
    if s.threads is not None:
        t = s.threads
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= int(t) < 2**63:
            raise GeomLossValueError("threads: must be an integer in [0, 65536] (0 = all cores), "
                                     "got %r" % (t,), _errors.ERR_INVALID_OPTION)
        _check(lib, lib.geomloss_options_set_int(opts, OPT_THREADS, int(t)))
    if s.device is not None:
        _set_name(lib, opts, OPT_DEVICE, "device", s.device, tuple(DEVICE_NAMES.values()))


def _grid_call(settings, progress, call):
    """Creates the options (configured from settings) and runs call(lib, opts)."""
    lib = load()
    callback = _Progress(progress)
    with _options(lib) as opts:
        _configure_grid(lib, opts, settings)
        _check(lib, lib.geomloss_options_set_progress(opts, callback.fn, None))
        with callback:
            st = call(lib, opts)
        callback.raise_pending()
        if st != _errors.OK:
            raise error_for_status(st, _last_error(lib))


def _shape_args(shape, spacing):
    sh = (ctypes.c_int64 * len(shape))(*shape)
    sp = None if spacing is None else (ctypes.c_double * len(shape))(*spacing)
    return sh, sp


def evaluate_grid(settings, a, b, shape, *, spacing=None, cot_value=None, cot_F=None, cot_G=None,
                  potentials=False, grad_a=False, grad_b=False, progress=None):
    """One call of geomloss_eval_grid.

    a, b: C-contiguous (n_items, prod(shape)) arrays of one dtype (float32 or
    float64); shape: the 1-3 sides; spacing: None or one pixel width per axis;
    cot_value: None or (n_items,); cot_F, cot_G: None or (n_items, prod(shape))
    (the gradients are then those of sum cot_value*value + sum cot_F*F +
    sum cot_G*G). Returns a dict with "value" (n_items,) and
    "F", "G", "grad_a", "grad_b" (n_items, prod(shape)) when asked.
    """
    dtype = a.dtype
    code = F64 if dtype == np.float64 else F32
    n = a.shape[0]
    out = {"value": np.empty(n, dtype)}
    if potentials:
        out["F"], out["G"] = np.empty_like(a), np.empty_like(a)
    if grad_a:
        out["grad_a"] = np.empty_like(a)
    if grad_b:
        out["grad_b"] = np.empty_like(a)
    arrays = {_abi.BUF_A: a, _abi.BUF_B: b, _abi.BUF_COT_VALUE: cot_value,
              _abi.BUF_COT_F: cot_F, _abi.BUF_COT_G: cot_G, _abi.BUF_VALUE: out["value"], _abi.BUF_F: out.get("F"), _abi.BUF_G: out.get("G"),
              _abi.BUF_GRAD_A: out.get("grad_a"), _abi.BUF_GRAD_B: out.get("grad_b")}
    sh, sp = _shape_args(shape, spacing)

    def call(lib, opts):
        with _buffers(lib, arrays) as bufs:
            return lib.geomloss_eval_grid(opts, code, n, len(shape), sh, sp, bufs)

    _grid_call(settings, progress, call)
    return out


def images_barycenter(measures, weights, shape, *, p=2, blur=None, scaling_n=10,
                      extra_iterations=0, spacing=None, cot=None, grads=False, threads=None,
                      device=None):
    """One call of geomloss_images_barycenter.

    measures: C-contiguous (B, K, prod(shape)); weights (B, K), same dtype;
    cot: (B, prod(shape)) when grads. Returns a dict with "bar" (B, prod(shape))
    and, when grads, "grad_measures" (B, K, prod(shape)) and "grad_weights" (B, K).
    """
    dtype = measures.dtype
    code = F64 if dtype == np.float64 else F32
    B, K, P = measures.shape
    out = {"bar": np.empty((B, P), dtype)}
    if grads:
        out["grad_measures"] = np.empty_like(measures)
        out["grad_weights"] = np.empty_like(weights)
    sh, sp = _shape_args(shape, spacing)

    def ptr(arr):
        return None if arr is None else arr.ctypes.data

    def call(lib, opts):
        return lib.geomloss_images_barycenter(
            opts, code, B, K, len(shape), sh, sp, int(scaling_n), int(extra_iterations),
            ptr(measures), ptr(weights), ptr(cot), ptr(out["bar"]), ptr(out.get("grad_measures")),
            ptr(out.get("grad_weights")))

    settings = GridSettings(p=p, blur=blur, scaling=None, debias=None, threads=threads, device=device)
    _grid_call(settings, None, call)
    return out
