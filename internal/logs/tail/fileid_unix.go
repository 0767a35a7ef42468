//go:build unix

package tail

import (
	"os"
	"syscall"
)

// idOf returns the device and inode of fi.
func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, true //nolint:unconvert // the types differ by OS
}
