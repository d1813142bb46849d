package core

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The progress relay (progress.go) as the C ABI relies on it: reports on the
// calling goroutine in order, a heartbeat repeating the latest report while
// the body works, stop set by a true return, and panics — in the body (the
// evaluation goroutine) or in deliver — as ErrInternal errors, returned only
// after the body has finished.

func TestRelayOrderHeartbeatStop(t *testing.T) {
	var got []int
	stop := new(Stop)
	err := relay(func(stage string, iter, total int) bool {
		got = append(got, iter)
		return iter == 3
	}, stop, func(report func(string, int, int)) error {
		for i := 1; i <= 5; i++ {
			report("s", i, 5)
			if i == 2 { // a long step: heartbeats repeat report 2
				time.Sleep(3 * HeartbeatInterval)
			}
			if stop.Stopped() {
				return Cancelled()
			}
		}
		return nil
	})
	if e, ok := err.(*Error); !ok || e.Code != ErrCancelled {
		t.Fatalf("err %v, want ErrCancelled", err)
	}
	repeats := 0
	for i, v := range got {
		if i > 0 && v < got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
		if v == 2 {
			repeats++
		}
	}
	if repeats < 2 || got[len(got)-1] != 3 {
		t.Errorf("reports %v: want report 2 repeated by the heartbeat and 3 last", got)
	}
}

func TestRelayPanics(t *testing.T) {
	err := relay(func(string, int, int) bool { return false }, new(Stop), func(func(string, int, int)) error {
		panic("in the evaluation goroutine")
	})
	if e, ok := err.(*Error); !ok || e.Code != ErrInternal || !strings.Contains(e.Msg, "panic: in the evaluation goroutine") {
		t.Errorf("body panic: %v", err)
	}
	var finished atomic.Bool
	stop := new(Stop)
	err = relay(func(string, int, int) bool { panic("in deliver") }, stop, func(report func(string, int, int)) error {
		report("a", 1, 2)
		report("a", 2, 2)
		finished.Store(true)
		return nil
	})
	if e, ok := err.(*Error); !ok || e.Code != ErrInternal || !strings.Contains(e.Msg, "in deliver") || !finished.Load() || !stop.Stopped() {
		t.Errorf("deliver panic: %v, body finished %v, stopped %v", err, finished.Load(), stop.Stopped())
	}
}

// TestRelayBodyNeverWaits: a slow callback does not stall the body (its
// reports queue and are all delivered, in order, before relay returns); a
// true return after the body has finished still cancels, and drops the
// reports queued behind it.
func TestRelayBodyNeverWaits(t *testing.T) {
	release := make(chan struct{})
	var bodyDone atomic.Bool
	var got []int
	err := relay(func(stage string, iter, total int) bool {
		if iter == 1 {
			<-release // the first delivery blocks until the body has finished
			if !bodyDone.Load() {
				t.Error("the body waited for a delivery")
			}
		}
		got = append(got, iter)
		return false
	}, new(Stop), func(report func(string, int, int)) error {
		for i := 1; i <= 100; i++ {
			report("s", i, 100)
		}
		bodyDone.Store(true)
		close(release)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 100 {
		t.Fatalf("%d reports delivered, want 100", len(got))
	}
	for i := 1; i < 100; i++ {
		if got[i] != i+1 {
			t.Fatalf("reports out of order: %v", got[:i+1])
		}
	}
	got = got[:0]
	err = relay(func(stage string, iter, total int) bool {
		got = append(got, iter)
		return iter == 50
	}, new(Stop), func(report func(string, int, int)) error {
		for i := 1; i <= 100; i++ {
			report("s", i, 100)
		}
		return nil
	})
	if e, ok := err.(*Error); !ok || e.Code != ErrCancelled || got[len(got)-1] != 50 {
		t.Errorf("cancel at 50: err %v, last report %d; want ErrCancelled and 50 last", err, got[len(got)-1])
	}
}
