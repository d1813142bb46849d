package core

// pairFactory builds the Pair between two clouds on some engine (online,
// dense...).
type pairFactory[T Float] func(x, y Cloud[T]) (Pair[T], error)

// singleScale is the geometry of the tensorized and online backends: one
// scale, the input measures, with the reductions built by one factory. Only
// the reductions the loss needs are built (no self matrices for raw OT).
type singleScale[T Float] struct {
	sc     Scale[T]
	closer closeList
}

// newSingleScale builds the one-scale geometry between the clouds x, y with
// log-weights la, lb.
func newSingleScale[T Float](x, y Cloud[T], la, lb []T, need Needs, build pairFactory[T]) (*singleScale[T], error) {
	g := &singleScale[T]{sc: Scale[T]{LA: la, LB: lb}}
	mk := func(dst *Pair[T], u, v Cloud[T]) error {
		p, err := build(u, v)
		if err != nil {
			return err
		}
		*dst = p
		g.closer.add(p)
		return nil
	}
	var err error
	if need.Cross {
		if err = mk(&g.sc.XY, x, y); err == nil {
			err = mk(&g.sc.YX, y, x)
		}
	}
	if err == nil && need.Self {
		if err = mk(&g.sc.XX, x, x); err == nil {
			err = mk(&g.sc.YY, y, y)
		}
	}
	if err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *singleScale[T]) Schedule(eps []float64) Schedule { return Schedule{Eps: eps} }

func (g *singleScale[T]) Levels() int { return 1 }

func (g *singleScale[T]) Scale(k int) (*Scale[T], error) {
	if k != 0 {
		return nil, errorf(ErrInternal, "single-scale geometry: no scale %d", k)
	}
	return &g.sc, nil
}

func (g *singleScale[T]) Jump(k int, _, _ float64, _ Duals[T]) (Duals[T], error) {
	return Duals[T]{}, errorf(ErrInternal, "single-scale geometry: no jump from scale %d", k)
}

func (g *singleScale[T]) Close() error { return g.closer.close() }

// closeList closes, once, every Pair a geometry built and keeps the first error.
type closeList struct{ pairs []interface{ Close() error } }

func (c *closeList) add(p interface{ Close() error }) { c.pairs = append(c.pairs, p) }

func (c *closeList) close() error {
	var first error
	for _, p := range c.pairs {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.pairs = nil
	return first
}
