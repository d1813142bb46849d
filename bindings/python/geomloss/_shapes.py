"""Call forms and shape checks of SamplesLoss (GeomLoss §1.2-1.3), array-library neutral.

Works on anything with a ``.shape`` (NumPy arrays, PyTorch tensors). The
messages follow libgeomloss's style: they name the argument and the problem.
"""

from ._errors import GeomLossValueError, ERR_SHAPE, ERR_INVALID_ARGUMENT


def _shape(t):
    return tuple(int(s) for s in t.shape)


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _fail(msg):
    raise GeomLossValueError(msg, ERR_SHAPE)


def check_real(a, x, b, y):
    """Refuses complex inputs (NumPy arrays or tensors) with a TypeError naming the argument.

    Converting them to a real dtype would silently drop the imaginary part.
    """
    for name, t in (("a", a), ("x", x), ("b", b), ("y", y)):
        if t is None:
            continue
        is_complex = getattr(t, "is_complex", None)
        if callable(is_complex):  # torch.Tensor
            bad = bool(is_complex())
        else:
            dt = getattr(t, "dtype", None)
            bad = dt is not None and getattr(dt, "kind", "") == "c"
        if bad:
            raise TypeError("%s: complex values (dtype %s) are not supported; pass real "
                            "coordinates and weights (e.g. x.real)" % (name, t.dtype))


def split_args(args):
    """(l_x, l_y, a, x, b, y) from the call forms (x, y), (a, x, b, y), (l_x, a, x, l_y, b, y).

    a and b are None in the two-argument form (uniform weights); l_x and l_y
    (cluster labels) are None but in the six-argument form (check_labels
    checks them).
    """
    n = len(args)
    if n == 2:
        x, y = args
        return None, None, None, x, None, y
    if n == 4:
        a, x, b, y = args
        if a is None or b is None:
            _fail("SamplesLoss(a, x, b, y): the weights a and b must both be given "
                  "(use SamplesLoss(x, y) for uniform weights)")
        return None, None, a, x, b, y
    if n == 6:
        lx, a, x, ly, b, y = args
        if a is None or b is None:
            _fail("SamplesLoss(l_x, a, x, l_y, b, y): the weights a and b must both be given")
        return lx, ly, a, x, b, y
    _fail("SamplesLoss takes 2 arguments (x, y), 4 (a, x, b, y) or 6 (l_x, a, x, l_y, b, y); "
          "got %d" % n)


def _is_integer(t):
    """Whether t (a NumPy array or a tensor) has an integer dtype (not bool)."""
    is_fp = getattr(t, "is_floating_point", None)
    if callable(is_fp):  # torch.Tensor
        return not is_fp() and not t.is_complex() and str(t.dtype) != "torch.bool"
    return getattr(getattr(t, "dtype", None), "kind", "") in ("i", "u")


def check_labels(lx, ly, lay, to_numpy):
    """The cluster labels of the six-argument call as (B, N), (B, M) int64 arrays, or (None, None).

    l_x is (N,) (unbatched) or (B, N) (batched), l_y alike, of an integer
    dtype (NumPy ints, torch int8..int64, uint8; unsigned 64-bit values are
    taken modulo 2^64, which keeps the partition); both or neither.
    Equal labels within one batch item form a cluster of the multiscale
    backend. to_numpy converts one label object to a NumPy array. Raises
    TypeError for non-integer labels and ValueError naming l_x / l_y for
    wrong shapes.
    """
    if lx is None and ly is None:
        return None, None
    if lx is None or ly is None:
        raise GeomLossValueError("SamplesLoss(l_x, a, x, l_y, b, y): give the cluster labels of both x and y "
              "(l_x and l_y), or neither (None, None)", ERR_INVALID_ARGUMENT)
    out = []
    for name, lab, pts, n in (("l_x", lx, "x", lay.N), ("l_y", ly, "y", lay.M)):
        if not hasattr(lab, "shape") or not hasattr(lab, "dtype"):
            lab = to_numpy(lab)
        if not _is_integer(lab):
            raise TypeError("%s (cluster labels of %s): must be integers (e.g. int64), got dtype %s"
                            % (name, pts, lab.dtype))
        s, P = _shape(lab), "N" if pts == "x" else "M"
        want = (lay.B, n) if lay.batched else (n,)
        if s != want:
            form = "(B, %s) = %s for batched inputs" % (P, _fmt(want)) if lay.batched else \
                "(%s,) = %s" % (P, _fmt(want))
            _fail("%s (cluster labels of %s) must be %s, got shape %s" % (name, pts, form, _fmt(s)))
        arr = to_numpy(lab)
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
            arr = arr.view("int64")
        out.append(arr.astype("int64", order="C", copy=False).reshape(lay.B, n))
    return out[0], out[1]


class Layout:
    """The sizes of one call and the shapes to give results back in."""

    __slots__ = ("batched", "B", "N", "M", "D", "a_shape", "b_shape")

    def __repr__(self):
        return "Layout(batched=%s, B=%d, N=%d, M=%d, D=%d, a=%s, b=%s)" % (
            self.batched, self.B, self.N, self.M, self.D, self.a_shape, self.b_shape)


def check_shapes(a, x, b, y):
    """Checks the shapes of one call, in GeomLoss's order, and returns a Layout.

    x is (N, D) or (B, N, D) and y alike; a is (N,) or (N, 1) unbatched,
    (B, N) or (B, N, 1) batched (b alike), or None for uniform weights.
    Raises ValueError (GeomLossValueError) naming the argument.
    """
    xs, ys = _shape(x), _shape(y)
    as_ = None if a is None else _shape(a)
    bs = None if b is None else _shape(b)
    if as_ is not None and len(as_) != len(bs):
        _fail("a has %d dimensions %s but b has %d %s; the weights must have matching layouts"
              % (len(as_), _fmt(as_), len(bs), _fmt(bs)))
    if len(xs) != len(ys):
        _fail("x has %d dimensions %s but y has %d %s; both must be (N, D) or (B, N, D)"
              % (len(xs), _fmt(xs), len(ys), _fmt(ys)))
    if len(xs) not in (2, 3):
        _fail("x must be a (N, D) or (B, N, D) array, got shape %s" % _fmt(xs))
    if xs[-1] != ys[-1]:
        _fail("y has %d columns but x has %d" % (ys[-1], xs[-1]))
    lay = Layout()
    lay.batched = len(xs) == 3
    lay.D = xs[-1]
    if lay.batched:
        lay.B, lay.N, lay.M = xs[0], xs[1], ys[1]
        if ys[0] != lay.B:
            _fail("y has batch size %d but x has %d" % (ys[0], lay.B))
    else:
        lay.B, lay.N, lay.M = 1, xs[0], ys[0]
    for name, s, pts, n in (("a", as_, "x", lay.N), ("b", bs, "y", lay.M)):
        if s is None:
            continue
        if lay.batched:
            if len(s) not in (2, 3) or (len(s) == 3 and s[2] != 1):
                _fail("%s (weights of %s) must be (B, %s) or (B, %s, 1) for batched inputs, got "
                      "shape %s" % (name, pts, "N" if pts == "x" else "M",
                                    "N" if pts == "x" else "M", _fmt(s)))
            if s[0] != lay.B:
                _fail("%s (weights of %s) has batch size %d but x has %d" % (name, pts, s[0], lay.B))
            if s[1] != n:
                _fail("%s (weights of %s) has %d elements per batch item but %s has %d points"
                      % (name, pts, s[1], pts, n))
        else:
            if len(s) not in (1, 2) or (len(s) == 2 and s[1] != 1):
                _fail("%s (weights of %s) must be (%s,) or (%s, 1), got shape %s"
                      % (name, pts, "N" if pts == "x" else "M", "N" if pts == "x" else "M", _fmt(s)))
            if s[0] != n:
                _fail("%s (weights of %s) has %d elements but %s has %d points"
                      % (name, pts, s[0], pts, n))
    lay.a_shape = as_ if as_ is not None else ((lay.B, lay.N) if lay.batched else (lay.N,))
    lay.b_shape = bs if bs is not None else ((lay.B, lay.M) if lay.batched else (lay.M,))
    return lay
