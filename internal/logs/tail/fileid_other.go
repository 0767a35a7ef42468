//go:build !unix

package tail

import "os"

// idOf has no inode to offer on this system: files are then known by path.
func idOf(os.FileInfo) (fileID, bool) { return fileID{}, false }
