package collector

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxFileSize bounds what reader.read buffers: pseudo files are small, and a
// runaway file must not grow the agent without limit.
const maxFileSize = 64 << 20

// errFileTooLarge reports a file larger than maxFileSize.
var errFileTooLarge = errors.New("file too large")

// reader reads whole pseudo files into a buffer that it reuses, so that a
// collection allocates nothing for file contents. The slice it returns is
// valid until the next read. A reader is not safe for concurrent use; the
// Node serializes collections.
type reader struct {
	buf []byte
}

// openFile opens path read-only, retrying on EINTR. Errors are *os.PathError
// so that errors.Is(err, fs.ErrNotExist) works.
func openFile(path string) (int, error) {
	fd, err := openAt(unix.AT_FDCWD, path)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// openAt opens name, relative to the directory open as dirfd, read-only,
// retrying on EINTR.
func openAt(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readFD reads from fd into p, retrying on EINTR.
func readFD(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// read returns the whole content of path.
func (r *reader) read(path string) ([]byte, error) {
	fd, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return r.readAll(fd, path, false)
}

// readSysfsAt returns the content of the sysfs attribute name in the
// directory open as dirfd, whose path is dir (for errors). Opening relative
// to a directory spares the kernel resolving the whole path again, which
// counts when many files of one directory are read. A sysfs attribute is
// at most a page and is returned whole by the first read, so a read that
// does not fill the buffer ends it, without a second read to see EOF.
func (r *reader) readSysfsAt(dirfd int, dir, name string) ([]byte, error) {
	fd, err := openAt(dirfd, name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, name), Err: err}
	}
	defer unix.Close(fd)
	data, err := r.readAll(fd, "", true)
	if pe, ok := err.(*os.PathError); ok {
		pe.Path = filepath.Join(dir, name)
	}
	return data, err
}

// readAll reads fd to its end into the buffer; path names it in errors.
// With short, a read that does not fill the buffer is taken as the end.
func (r *reader) readAll(fd int, path string, short bool) ([]byte, error) {
	if r.buf == nil {
		r.buf = make([]byte, 16<<10)
	}
	n := 0
	for {
		if n == len(r.buf) {
			if len(r.buf) >= maxFileSize {
				return nil, &os.PathError{Op: "read", Path: path, Err: errFileTooLarge}
			}
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := readFD(fd, r.buf[n:])
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 || short && n+m < len(r.buf) {
			return r.buf[:n+m], nil
		}
		n += m
	}
}

// lineScanner streams a file line by line through a fixed buffer, for files
// that can be large (/proc/net/tcp on a busy server). A line longer than the
// buffer is returned cut to the buffer's size.
type lineScanner struct {
	buf   []byte
	fd    int
	path  string
	start int  // first unread byte in buf
	end   int  // end of the data in buf
	eof   bool // the file has no more data
	skip  bool // drop data up to the next newline (rest of a cut line)
	err   error
}

// open starts scanning path. buf is used for the scan and must be non-empty.
func (s *lineScanner) open(path string, buf []byte) error {
	fd, err := openFile(path)
	if err != nil {
		return err
	}
	*s = lineScanner{buf: buf, fd: fd, path: path}
	return nil
}

// close releases the file.
func (s *lineScanner) close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// next returns the next line without its newline, valid until the next call,
// and false at the end of the file or on an error (see err).
func (s *lineScanner) next() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], '\n'); i >= 0 {
			line := s.buf[s.start : s.start+i]
			s.start += i + 1
			if s.skip {
				s.skip = false
				continue
			}
			return line, true
		}
		if s.eof || s.err != nil {
			line := s.buf[s.start:s.end]
			s.start = s.end
			if len(line) == 0 || s.skip {
				return nil, false
			}
			return line, true
		}
		if s.start > 0 { // keep the partial line, make room after it
			s.end = copy(s.buf, s.buf[s.start:s.end])
			s.start = 0
		}
		if s.end == len(s.buf) { // a line longer than the buffer
			s.end = 0
			if !s.skip {
				s.skip = true
				return s.buf, true
			}
			continue
		}
		n, err := readFD(s.fd, s.buf[s.end:])
		switch {
		case err != nil:
			s.err = &os.PathError{Op: "read", Path: s.path, Err: err}
		case n == 0:
			s.eof = true
		default:
			s.end += n
		}
	}
}

// cutLine returns the first line of b (without its newline) and the rest.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// nextField skips leading blanks and returns the next blank-separated field
// of b and what follows it. field is empty when b holds only blanks.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// parseUint parses a decimal unsigned integer.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseNumber parses a decimal integer, possibly negative, or a float, as a
// float64.
func parseNumber(b []byte) (float64, bool) {
	if len(b) > 0 && b[0] == '-' {
		if n, ok := parseUint(b[1:]); ok {
			return -float64(n), true
		}
	} else if n, ok := parseUint(b); ok {
		return float64(n), true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// parseHex parses a hexadecimal unsigned integer.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

// malformed returns the error for content of path that cannot be parsed.
func malformed(path string, format string, args ...any) error {
	return fmt.Errorf("%s: malformed: %s", path, fmt.Sprintf(format, args...))
}
