//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package remotewrite

import "os"

// lockDir creates the lock file; on this platform it does not lock.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
