//go:build !linux

package collector

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readClock is only implemented on Linux.
func readClock() (clockState, error) {
	return clockState{}, fmt.Errorf("%w: adjtimex is Linux only", errNoData)
}

// domainname returns ""; there is no domain name outside Linux.
func domainname(*unix.Utsname) string { return "" }

// netlinkTCPSupported reports whether countTCPNetlink can work here.
const netlinkTCPSupported = false

// countTCPNetlink is only implemented on Linux.
func countTCPNetlink(*tcpCounts, []byte, *bool) error {
	return errors.ErrUnsupported
}

// listDir appends to names the names of the entries of dir that are not
// regular files, each followed by a NUL byte.
func listDir(dir string, _ *[]byte, names []byte) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return names, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			names = append(append(names, e.Name()...), 0)
		}
	}
	return names, nil
}
