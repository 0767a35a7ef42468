package parse

import (
	"bytes"
	"io"
)

// defaultMaxFrame is the frame limit used when NewFrameReader gets none.
const defaultMaxFrame = 64 << 10

// frameSlack is the buffer room beyond maxLen: an octet count header and
// the delimiter after a frame of exactly maxLen bytes.
const frameSlack = 16

// initialFrameBuffer is the buffer a FrameReader starts with; it grows up
// to maxLen+frameSlack only when a frame needs it.
const initialFrameBuffer = 4 << 10

// FrameReader splits a syslog stream (RFC 6587) into frames, detecting
// octet counting ("123 <34>1 ...") or LF/NUL delimiting frame by frame. It
// never holds more than maxLen plus a few bytes of the stream; its buffer
// starts at 4 KiB and grows only as long frames need.
type FrameReader struct {
	rd        io.Reader
	max       int
	buf       []byte
	r, w      int
	err       error
	skip      int64 // bytes of an octet-counted frame still to discard
	skipLine  bool  // discarding the rest of an over-long delimited frame
	truncated bool
}

// NewFrameReader returns a FrameReader reading from r that returns frames
// of at most maxLen bytes (65536 when maxLen < 1).
func NewFrameReader(r io.Reader, maxLen int) *FrameReader {
	if maxLen < 1 {
		maxLen = defaultMaxFrame
	}
	return &FrameReader{rd: r, max: maxLen, buf: make([]byte, min(maxLen+frameSlack, initialFrameBuffer))}
}

// Truncated reports whether the frame last returned by Next was longer than
// the limit and was cut to it (or ended early at the end of the stream
// before its announced length).
func (f *FrameReader) Truncated() bool { return f.truncated }

// Next returns the next non-empty frame, without its delimiter or octet
// count. The slice is valid until the next call. At the end of the stream
// it returns io.EOF (or the reader's error) once the buffered frames are
// returned.
func (f *FrameReader) Next() ([]byte, error) {
	f.truncated = false
	for {
		if f.skip > 0 {
			if n := int64(f.w - f.r); n > 0 {
				if n > f.skip {
					n = f.skip
				}
				f.r += int(n)
				f.skip -= n
				continue
			}
			if err := f.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if f.skipLine {
			if i := indexDelim(f.buf[f.r:f.w]); i >= 0 {
				f.r += i + 1
				f.skipLine = false
				continue
			}
			f.r = f.w
			if err := f.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if f.r == f.w {
			if err := f.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if c := f.buf[f.r]; c >= '1' && c <= '9' {
			n, hdr, ok := f.octetCount()
			if hdr < 0 {
				// Need more bytes to decide.
				if err := f.fill(); err != nil {
					if f.r == f.w {
						return nil, err
					}
					// A short last frame: return it delimited.
					return f.delimited(true)
				}
				continue
			}
			if ok {
				f.r += hdr
				return f.counted(n)
			}
		}
		frame, err := f.delimited(false)
		if frame == nil && err == nil {
			continue
		}
		return frame, err
	}
}

// octetCount inspects the buffered bytes for "LEN SP": ok and the header
// length when present, hdr < 0 when more bytes are needed to decide.
func (f *FrameReader) octetCount() (n int64, hdr int, ok bool) {
	b := f.buf[f.r:f.w]
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == ' ' && i > 0:
			return n, i + 1, true
		case c >= '0' && c <= '9' && i < 10:
			n = n*10 + int64(c-'0')
		default:
			return 0, 0, false
		}
	}
	if len(b) >= 11 || f.err != nil {
		return 0, 0, false
	}
	return 0, -1, false
}

// counted returns an octet-counted frame of n bytes whose header has been
// consumed.
func (f *FrameReader) counted(n int64) ([]byte, error) {
	want := n
	if want > int64(f.max) {
		want = int64(f.max)
	}
	for int64(f.w-f.r) < want {
		if err := f.fill(); err != nil {
			// The stream ended inside the frame: return what there is.
			f.truncated = true
			frame := f.buf[f.r:f.w]
			f.r = f.w
			if len(frame) == 0 {
				return nil, err
			}
			return frame, nil
		}
	}
	frame := f.buf[f.r : f.r+int(want)]
	f.r += int(want)
	if n > want {
		f.truncated = true
		f.skip = n - want
	}
	return frame, nil
}

// delimited returns the frame up to the next LF or NUL; a nil frame and nil
// error mean an empty frame was skipped. atEOF means the reader is done.
func (f *FrameReader) delimited(atEOF bool) ([]byte, error) {
	searched := 0 // bytes after f.r known to hold no delimiter
	for {
		b := f.buf[f.r:f.w]
		i := indexDelim(b[searched:])
		if i >= 0 {
			i += searched
			f.r += i + 1
			frame := b[:i]
			if len(frame) > f.max {
				frame = frame[:f.max]
				f.truncated = true
			} else if len(frame) > 0 && frame[len(frame)-1] == '\r' {
				frame = frame[:len(frame)-1]
			}
			if len(frame) == 0 {
				return nil, nil
			}
			return frame, nil
		}
		if len(b) > f.max {
			f.r += f.max
			f.truncated = true
			f.skipLine = true
			return b[:f.max], nil
		}
		if atEOF || f.err != nil {
			f.r = f.w
			if len(b) > 0 && b[len(b)-1] == '\r' {
				b = b[:len(b)-1]
			}
			if len(b) == 0 {
				return nil, f.readErr()
			}
			return b, nil
		}
		searched = len(b)
		if err := f.fill(); err != nil {
			atEOF = true
		}
	}
}

// fill moves the buffered bytes to the front and reads more. It returns the
// reader's error only when no byte was added.
func (f *FrameReader) fill() error {
	if f.r > 0 {
		copy(f.buf, f.buf[f.r:f.w])
		f.w -= f.r
		f.r = 0
	}
	if f.err != nil {
		return f.err
	}
	if f.w == len(f.buf) {
		limit := f.max + frameSlack
		if len(f.buf) >= limit {
			return nil
		}
		grown := make([]byte, min(2*len(f.buf), limit))
		copy(grown, f.buf[:f.w])
		f.buf = grown
	}
	for range 100 {
		n, err := f.rd.Read(f.buf[f.w:])
		if n < 0 || n > len(f.buf)-f.w {
			n = 0
			if err == nil {
				err = io.ErrShortBuffer
			}
		}
		f.w += n
		if err != nil {
			f.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	f.err = io.ErrNoProgress
	return f.err
}

func (f *FrameReader) readErr() error {
	if f.err != nil {
		return f.err
	}
	return io.EOF
}

// indexDelim returns the index of the first LF or NUL in b, or -1.
func indexDelim(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	head := b
	if i >= 0 {
		head = b[:i]
	}
	if j := bytes.IndexByte(head, 0); j >= 0 {
		return j
	}
	return i
}
