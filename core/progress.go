package core

import (
	"sync"
	"time"
)

// HeartbeatInterval is the longest time between two progress reports of an
// evaluation with a progress callback: while a long reduction runs, the
// latest report is repeated so that a cancellation takes effect promptly.
const HeartbeatInterval = 100 * time.Millisecond

// relayBatch is the longest a progress report waits for the ones after it,
// so that a burst of reports is delivered after one wake-up of the caller.
const relayBatch = time.Millisecond

// relay runs body on a new goroutine and delivers its progress reports on
// the calling goroutine, one at a time and in the order they were made,
// repeating the latest one every HeartbeatInterval while no new report
// arrives (reports are collected for up to relayBatch between deliveries).
// body never waits for a delivery: its reports queue, so a slow
// callback (a Python one costs a thread switch and the GIL per call) does
// not stall the reductions — a batch of 32 small problems makes ~300
// reports, which cost ~40 % of its time when each one waited. When deliver
// returns true, stop is set (body's reductions then return Cancelled()),
// the reports still queued are dropped, and relay returns Cancelled() even
// if body finished meanwhile (body's own error, if any, wins). A panic in
// body or in deliver becomes an ErrInternal error (after a panic in
// deliver, later reports are dropped). relay returns only after body has
// returned and every queued report was delivered or dropped, so body may
// use the caller's memory.
func relay(deliver func(stage string, iter, total int) bool, stop *Stop, body func(report func(stage string, iter, total int)) error) error {
	type event struct {
		stage       string
		iter, total int
	}
	var (
		mu    sync.Mutex
		queue []event
	)
	wake := make(chan struct{}, 1)
	report := func(stage string, iter, total int) {
		mu.Lock()
		queue = append(queue, event{stage, iter, total})
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	result := make(chan error, 1)
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
	var (
		deliverPanic error
		cancelled    bool
		last         *event
	)
	send := func(ev event) {
		if deliverPanic != nil || cancelled {
			return
		}
		defer func() {
			if v := recover(); v != nil {
				deliverPanic = PanicError(v)
				stop.Set()
			}
		}()
		if deliver(ev.stage, ev.iter, ev.total) {
			cancelled = true
			stop.Set()
		}
	}
	drain := func() {
		for {
			mu.Lock()
			q := queue
			queue = nil
			mu.Unlock()
			if len(q) == 0 {
				return
			}
			for _, ev := range q {
				send(ev)
			}
			last = &q[len(q)-1]
		}
	}
	tick := time.NewTicker(HeartbeatInterval)
	defer tick.Stop()
	// After a delivery, reports are collected for relayBatch before the next
	// (wakeC nil until resume fires): one thread wake-up per burst, not per
	// report. The end of body is still seen at once.
	wakeC, resume := (<-chan struct{})(wake), (<-chan time.Time)(nil)
	for {
		select {
		case <-wakeC:
			drain()
			tick.Reset(HeartbeatInterval)
			wakeC, resume = nil, time.After(relayBatch)
		case <-resume:
			wakeC, resume = wake, nil
		case <-tick.C:
			if last != nil {
				send(*last)
			}
		case err := <-result:
			drain()
			switch {
			case deliverPanic != nil:
				return deliverPanic
			case err == nil && cancelled:
				return Cancelled()
			}
			return err
		}
	}
}
