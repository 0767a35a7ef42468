package tail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/saypro/monitor/internal/agentapi"
)

// follower reads one file.
type follower struct {
	path string
	spec *fileSpec
	f    *os.File
	id   fileID

	// readOff is how far the file was read; committed is how far the
	// sink accepted it (the offset saved).
	readOff, committed int64
	// partial is the start of a line whose end was not read yet, at
	// most maxLine bytes; over counts its bytes beyond them.
	partial []byte
	over    int64

	// rotated is set when the path names another file (or none): the
	// file is read to its end and closed. rotatedAt is when it was seen.
	rotated   bool
	rotatedAt time.Time
	// done is set once a rotated file was read to its end; it is closed
	// once its last lines are committed.
	done bool
}

// truncatedMarker ends a line cut at the maximum line size.
func truncatedMarker(n int64) string {
	return " …[truncated " + strconv.FormatInt(n, 10) + " bytes]"
}

// readResult says why reading a file stopped.
type readResult int

const (
	readEOF  readResult = iota
	readMore            // the per-poll budget was used; more may follow
	readStop            // the sink failed or the collector stops
)

// read reads what was appended to f since the last call, at most budget
// bytes, and hands every complete line to emit with the offset just after
// it. emit returns false to stop reading.
func (fl *follower) read(buf []byte, budget int64, maxLine int, emit func(fl *follower, msg string, end int64) bool) (readResult, error) {
	for budget > 0 {
		n, err := fl.f.ReadAt(buf[:min(int64(len(buf)), budget)], fl.readOff)
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				return readEOF, nil
			}
			return readEOF, err
		}
		budget -= int64(n)
		chunk := buf[:n]
		base := fl.readOff
		start := 0
		for start < len(chunk) {
			i := bytes.IndexByte(chunk[start:], '\n')
			if i < 0 {
				fl.keep(chunk[start:], maxLine)
				break
			}
			seg := chunk[start : start+i]
			end := base + int64(start+i+1)
			var msg string
			if len(fl.partial) == 0 && fl.over == 0 && len(seg) <= maxLine {
				msg = lineString(seg)
			} else {
				fl.keep(seg, maxLine)
				msg = lineString(fl.partial)
				if fl.over > 0 {
					msg += truncatedMarker(fl.over)
				}
				fl.partial, fl.over = fl.partial[:0], 0
			}
			start += i + 1
			fl.readOff = end
			if !emit(fl, msg, end) {
				// The rest of the chunk is read again next time.
				return readStop, nil
			}
		}
		fl.readOff = base + int64(len(chunk))
	}
	return readMore, nil
}

// keep adds seg to the partial line, up to maxLine bytes.
func (fl *follower) keep(seg []byte, maxLine int) {
	take := min(len(seg), maxLine-len(fl.partial))
	fl.partial = append(fl.partial, seg[:take]...)
	fl.over += int64(len(seg) - take)
}

// flushPartial returns the partial line at the end of a file that will
// not grow any more, and whether there was one.
func (fl *follower) flushPartial() (string, bool) {
	if len(fl.partial) == 0 && fl.over == 0 {
		return "", false
	}
	msg := lineString(fl.partial)
	if fl.over > 0 {
		msg += truncatedMarker(fl.over)
	}
	fl.partial, fl.over = fl.partial[:0], 0
	return msg, true
}

// restart reads the file again from its beginning (it was truncated).
func (fl *follower) restart() {
	fl.readOff, fl.committed = 0, 0
	fl.partial, fl.over = fl.partial[:0], 0
}

// lineString returns a line without its \r, as valid UTF-8.
func lineString(b []byte) string {
	b = bytes.TrimSuffix(b, []byte{'\r'})
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// entry makes the batch entry of a line of fl.
func (fl *follower) entry(msg string, now time.Time) agentapi.LogEntry {
	return agentapi.LogEntry{
		Time:    now,
		Source:  fl.spec.source,
		File:    fl.path,
		Format:  fl.spec.format,
		Service: fl.spec.service,
		Message: msg,
	}
}

func (fl *follower) String() string {
	return fmt.Sprintf("%s (inode %d)", fl.path, fl.id.Ino)
}
