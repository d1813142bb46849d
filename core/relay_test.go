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
