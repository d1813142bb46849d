package abi

// Relay runs run on a new goroutine and delivers the progress reports it
// makes on the calling goroutine, one at a time and in order, while run
// waits for each delivery. The C ABI uses it so that the progress callback
// runs on the thread that called geomloss_eval_* (the cgo callback thread),
// which Python's GIL and Julia's foreign-thread rules need, even when the
// core reports progress from worker goroutines.
//
// Relay returns only after run has returned, so run may use the caller's
// memory. A panic in run or in deliver becomes an ErrInternal error; after a
// panic in deliver, later reports are dropped.
func Relay(run func(progress func(stage string, iter, total int)) error, deliver func(stage string, iter, total int)) error {
	type event struct {
		stage       string
		iter, total int
		ack         chan struct{}
	}
	events := make(chan event)
	done := make(chan struct{})
	result := make(chan error, 1)
	defer close(done)
	progress := func(stage string, iter, total int) {
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
		err = run(progress)
	}()
	var deliverPanic error
	for {
		select {
		case ev := <-events:
			if deliverPanic == nil {
				func() {
					defer func() {
						if v := recover(); v != nil {
							deliverPanic = PanicError(v)
						}
					}()
					deliver(ev.stage, ev.iter, ev.total)
				}()
			}
			close(ev.ack)
		case err := <-result:
			if deliverPanic != nil {
				return deliverPanic
			}
			return err
		}
	}
}
