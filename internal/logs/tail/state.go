package tail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateName is the file in the state directory holding the offsets.
const stateName = "offsets.json"

// fileID tells files apart independently of their names.
type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"inode"`
}

// savedFile is the committed offset of one file.
type savedFile struct {
	Path string `json:"path"`
	fileID
	Offset int64 `json:"offset"`
}

// state is the content of the offsets file.
type state struct {
	Files         []savedFile `json:"files"`
	JournalCursor string      `json:"journal_cursor,omitempty"`
}

// loadState reads the offsets file; exists is false when there is none.
func loadState(dir string) (st state, exists bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, stateName))
	if errors.Is(err, fs.ErrNotExist) {
		return state{}, false, nil
	}
	if err != nil {
		return state{}, false, fmt.Errorf("reading the log offsets: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// Starting over beats not starting: the caller logs it.
		return state{}, true, fmt.Errorf("log offsets file %s is damaged: %w", filepath.Join(dir, stateName), err)
	}
	return st, true, nil
}

// saveState writes st atomically: a temporary file, synced, renamed over
// the old one.
func saveState(dir string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, stateName+".tmp*")
	if err != nil {
		return fmt.Errorf("saving the log offsets: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, stateName))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("saving the log offsets: %w", err)
	}
	return nil
}
