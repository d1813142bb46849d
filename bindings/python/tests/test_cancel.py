"""Ctrl-C during an evaluation: a cancel (GEOMLOSS_ERR_CANCELLED) re-raised as KeyboardInterrupt,
promptly; progress reports printed once each; exceptions in the progress function cancel too."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import geomloss
from geomloss import SamplesLoss, _abi, _library


def long_problem(n=20000, seed=1):
    """A Sinkhorn problem that runs for many seconds (n×n online reductions, a small blur)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 3)), rng.random((n, 3)) + 0.5


def interrupt_after(delay):
    """Sends SIGINT to this process after delay seconds, from a timer thread; returns the
    thread and a list that receives the time of the kill."""
    sent = []

    def fire():
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Timer(delay, fire)
    t.start()
    return t, sent


@pytest.mark.parametrize("verbose", [False, True])
def test_sigint_cancels_within_a_second(verbose, capsys):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    x, y = long_problem()
    L = SamplesLoss(blur=1e-3, scaling=0.99, backend="online", verbose=verbose)
    t, sent = interrupt_after(0.5)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            L(x, y)
        caught = time.monotonic()
    finally:
        t.cancel()
        t.join()
    assert sent, "the evaluation ended before the signal was sent (%.2fs)" % (caught - start)
    assert caught - sent[0] < 1.0, "KeyboardInterrupt %.2fs after SIGINT" % (caught - sent[0])
    # the library is still usable
    a = np.random.default_rng(0).random((20, 2))
    assert float(SamplesLoss()(a, a)) == pytest.approx(0, abs=1e-9)
    capsys.readouterr()


def test_verbose_prints_each_report_once(capsys):
    rng = np.random.default_rng(3)
    x, y = rng.random((300, 2)), rng.random((300, 2))
    seen = []
    _library.evaluate(_library.Settings(blur=0.01, backend="online"), x[None], y[None],
                      progress=lambda *r: seen.append(r))
    assert len(seen) >= 3
    assert all(seen[i] != seen[i + 1] for i in range(len(seen) - 1)), "a repeated report"
    assert seen[-1][1] == seen[-1][2] and seen[-1][0] == "sinkhorn"
    SamplesLoss(blur=0.01, verbose=True)(x, y)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("[geomloss]")]
    assert len(lines) == len(set(lines)) == len(seen), lines


def test_exception_in_progress_cancels_and_is_raised():
    rng = np.random.default_rng(4)
    x, y = rng.random((1, 200, 2)), rng.random((1, 200, 2))
    calls = []

    def boom(stage, it, total):
        calls.append(it)
        raise ValueError("stop here")

    with pytest.raises(ValueError, match="stop here"):
        _library.evaluate(_library.Settings(blur=0.01), x, y, progress=boom)
    assert len(calls) == 1, calls


def test_cancelled_status_maps_to_its_error():
    err = geomloss._errors.error_for_status(_abi.ERR_CANCELLED, "cancelled by the progress callback")
    assert isinstance(err, geomloss.GeomLossCancelledError) and isinstance(err, RuntimeError)
    assert err.status == 10
    dev = geomloss._errors.error_for_status(_abi.ERR_DEVICE, "launch failed")
    assert isinstance(dev, geomloss.GeomLossDeviceError) and dev.status == 11


def test_generated_constants_match_the_library():
    lib = _library.load()
    for code in range(0, 12):
        assert lib.geomloss_status_string(code).decode() == _abi.STATUS_STRINGS[code]
    assert lib.geomloss_version().decode() == _abi.VERSION_STRING == geomloss.__version__
    for key, names in ((_abi.OPT_LOSS, _abi.LOSS_NAMES), (_abi.OPT_BACKEND, _abi.BACKEND_NAMES),
                       (_abi.OPT_DEVICE, _abi.DEVICE_NAMES)):
        for v, n in names.items():
            assert lib.geomloss_value_name(key, v).decode() == n
