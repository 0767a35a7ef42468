//go:build !linux

package collector

import "fmt"

// readClock is only implemented on Linux.
func readClock() (clockState, error) {
	return clockState{}, fmt.Errorf("%w: adjtimex is Linux only", errNoData)
}
