//go:build unix

package cputime

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time the process has used, on every thread: what
// a benchmark costs a busy machine, however its time is sliced.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
