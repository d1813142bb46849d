package core

import "time"

// HeartbeatInterval is the longest time between two progress reports of an
// evaluation with a progress callback: while a long reduction runs, the
// latest report is repeated so that a cancellation takes effect promptly.
const HeartbeatInterval = 100 * time.Millisecond

// relay runs body on a new goroutine and delivers its progress reports on
// the calling goroutine, one at a time and in order (body waits for each
// delivery), repeating the latest one every HeartbeatInterval while no new
// report arrives. When deliver returns true, stop is set, so body's
// reductions return Cancelled(). A panic in body or in deliver becomes an
// ErrInternal error (after a panic in deliver, later reports are dropped).
// relay returns only after body has returned, so body may use the caller's
// memory.
func relay(deliver func(stage string, iter, total int) bool, stop *Stop, body func(report func(stage string, iter, total int)) error) error {
	type event struct {
		stage       string
		iter, total int
		ack         chan struct{}
	}
	events := make(chan event)
	done := make(chan struct{})
	result := make(chan error, 1)
	defer close(done)
	report := func(stage string, iter, total int) {
		ack := make(chan struct{})
		select {
		case events <- event{stage, iter, total, ack}:
			<-ack
		case <-done:
		}
	}
	go func() {
		var err error
		defer func() {
			if v := recover(); v != nil {
				err = PanicError(v)
			}
			result <- err
		}()
		err = body(report)
	}()
	var deliverPanic error
	var last *event
	send := func(ev event) {
		if deliverPanic != nil {
			return
		}
		defer func() {
			if v := recover(); v != nil {
				deliverPanic = PanicError(v)
				stop.Set()
			}
		}()
		if deliver(ev.stage, ev.iter, ev.total) {
			stop.Set()
		}
	}
	tick := time.NewTicker(HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case ev := <-events:
			send(ev)
			last = &ev
			tick.Reset(HeartbeatInterval)
			close(ev.ack)
		case <-tick.C:
			if last != nil {
				send(*last)
			}
		case err := <-result:
			if deliverPanic != nil {
				return deliverPanic
			}
			return err
		}
	}
}
