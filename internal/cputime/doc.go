// Package cputime measures the CPU time of the process, for benchmarks that
// report CPU per unit of work: on a loaded machine wall time is inflated by
// other work, CPU time is not.
package cputime
