package zitadeldbtest

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

const heapObjects = "/memory/classes/heap/objects:bytes"

// HeapBytes is the heap occupied by objects, live or not yet swept.
func HeapBytes() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// HeapPeak samples HeapBytes every millisecond from a collected baseline
// until stop, which returns the highest growth over the baseline seen.
func HeapPeak() (base uint64, stop func() uint64) {
	runtime.GC()
	base = HeapBytes()
	var (
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if h := HeapBytes(); h > base && h-base > peak {
				peak = h - base
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return base, func() uint64 {
		close(done)
		wg.Wait()
		if h := HeapBytes(); h > base && h-base > peak {
			peak = h - base
		}
		return peak
	}
}
