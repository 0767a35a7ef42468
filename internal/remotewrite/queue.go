package remotewrite

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/klauspost/compress/snappy"
)

const (
	segmentMagic      = "SPRWQ\x00\x00\x01"
	segmentHeaderSize = int64(len(segmentMagic))
	recordHeaderSize  = 12
	segmentSuffix     = ".seg"
	segmentNameLen    = 20 // digits, zero-padded
	positionName      = "position"
	lockName          = "lock"
	slotSize          = 32

	// maxSegmentSize is the size at which a segment is sealed and a new
	// one started; small queues use smaller segments (an eighth of the
	// queue) so that dropping the oldest one does not drop too much.
	maxSegmentSize = 8 << 20
	minSegmentSize = 4 << 10
	// maxRecordPayload bounds one record's payload and its decoded size,
	// both when writing and when reading files that may be damaged.
	maxRecordPayload = 64 << 20
)

// Reasons for dropped samples, the values of the reason label.
const (
	reasonQueueFull  = "queue_full"
	reasonWriteError = "write_error"
	reasonRejected   = "rejected"
	reasonUnreadable = "unreadable"
)

// castagnoli is the CRC-32C table; it is never written after creation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks a record that fails its checks.
var errCorrupt = errors.New("corrupt queue record")

// segmentFile is what the queue needs of the segment being written; it is
// an *os.File except in tests that make writes fail.
type segmentFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
	Stat() (os.FileInfo, error)
}

func createSegmentFile(path string) (segmentFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
}

// segment is what the queue knows of one segment file.
type segment struct {
	num uint64
	// size is the file's size as far as the queue is concerned: its valid
	// records and anything kept after an unreadable one.
	size int64
	// end is where its readable records end.
	end int64
	// samples counts the samples in its records; consumed those before
	// the committed position; inflight those in the batch being sent.
	samples, consumed, inflight int64
	// dropped is set when the segment was deleted before it was sent.
	dropped bool
}

// position is the next record to send.
type position struct {
	seg uint64
	off int64
}

// queue is the on-disk queue: one writer (Enqueue) and one reader (Run),
// both under mu.
type queue struct {
	dir     string
	maxSize int64
	segSize int64
	logger  *slog.Logger
	m       *queueMetrics
	// create opens a new segment file; tests replace it.
	create func(path string) (segmentFile, error)

	mu       sync.Mutex
	closed   bool
	lock     *os.File
	segs     []*segment // ascending by number
	head     segmentFile
	headSeg  *segment
	lastNum  uint64
	bytes    int64
	pos      position
	posFile  *os.File
	posSeq   uint64
	posErr   bool
	rf       *os.File // open for reading segment rfNum
	rfNum    uint64
	failing  bool // writes are failing
	failLost int64
}

type queueOptions struct {
	dir     string
	maxSize int64
	logger  *slog.Logger
	metrics *queueMetrics
}

func segmentSizeFor(maxSize int64) int64 {
	return min(max(maxSize/8, minSegmentSize), maxSegmentSize)
}

// openQueue opens or creates the queue in o.dir and recovers it: torn or
// corrupt tails are cut off, sent segments deleted, and the read position
// restored.
func openQueue(o queueOptions) (_ *queue, err error) {
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the queue directory: %w", err)
	}
	lock, err := lockDir(filepath.Join(o.dir, lockName))
	if err != nil {
		return nil, err
	}
	q := &queue{
		dir:     o.dir,
		maxSize: o.maxSize,
		segSize: segmentSizeFor(o.maxSize),
		logger:  o.logger,
		m:       o.metrics,
		create:  createSegmentFile,
		lock:    lock,
	}
	defer func() {
		if err != nil {
			q.closed = true
			_ = q.closeFiles()
		}
	}()

	posPath := filepath.Join(o.dir, positionName)
	pos, seq, valid, err := readPosition(posPath)
	if err != nil {
		return nil, err
	}
	if !valid {
		if fi, err := os.Stat(posPath); err == nil && fi.Size() > 0 {
			q.logger.Warn("queue position file is unreadable; resending the queue from its oldest record", "file", posPath)
		}
		pos = position{}
	}
	q.posSeq = seq
	if q.posFile, err = os.OpenFile(posPath, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("opening the queue position file: %w", err)
	}

	nums, err := listSegments(o.dir)
	if err != nil {
		return nil, err
	}
	var resume int64 // where sending resumes in segment pos.seg
	for _, num := range nums {
		q.lastNum = max(q.lastNum, num)
		path := q.segPath(num)
		if num < pos.seg {
			// Sent, but not yet deleted when the process stopped.
			q.remove(path)
			continue
		}
		s, from, err := q.recoverSegment(num, pos)
		if err != nil {
			q.logger.Error("skipping a queue segment that cannot be read", "file", path, "err", err)
			continue
		}
		if s == nil {
			continue
		}
		if num == pos.seg {
			resume = from
		}
		q.segs = append(q.segs, s)
		q.bytes += s.size
	}
	q.lastNum = max(q.lastNum, pos.seg)
	switch {
	case len(q.segs) == 0:
		q.pos = position{seg: pos.seg}
	case q.segs[0].num != pos.seg:
		q.pos = position{seg: q.segs[0].num, off: segmentHeaderSize}
	default:
		q.pos = position{seg: pos.seg, off: resume}
	}
	for q.bytes > q.maxSize && len(q.segs) > 0 {
		q.logger.Warn("queue is larger than its maximum size; dropping its oldest segment", "max_size", q.maxSize, "size", q.bytes)
		q.dropSegment(0, reasonQueueFull)
	}
	q.updateGauges()
	return q, nil
}

func (q *queue) segPath(num uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%0*d%s", segmentNameLen, num, segmentSuffix))
}

// listSegments returns the numbers of the segment files in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing the queue directory: %w", err)
	}
	var nums []uint64
	for _, e := range entries {
		name := e.Name()
		digits, ok := strings.CutSuffix(name, segmentSuffix)
		if !ok || len(digits) != segmentNameLen || !e.Type().IsRegular() {
			continue
		}
		// 62 bits leave room to count up without wrapping.
		n, err := strconv.ParseUint(digits, 10, 62)
		if err != nil || n == 0 {
			continue
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
}

// recoverSegment checks segment num record by record, cuts off a torn or
// corrupt tail, and returns what the queue needs to know of it, or nil
// when it holds nothing to send (it is then deleted). For the segment of
// the committed position, s.consumed counts the samples before it and
// readFrom is the first record boundary at or after it.
func (q *queue) recoverSegment(num uint64, pos position) (_ *segment, readFrom int64, _ error) {
	path := q.segPath(num)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	s := &segment{num: num}
	readFrom = -1
	res := scanSegment(bufio.NewReaderSize(f, 64<<10), fi.Size(), func(off, end int64, samples uint32) {
		if num != pos.seg {
			return
		}
		if end <= pos.off {
			s.consumed += int64(samples)
		} else if readFrom < 0 {
			readFrom = off
		}
	})
	if res.badHeader {
		q.logger.Warn("deleting a queue segment without a valid header", "file", path, "size", fi.Size())
		q.remove(path)
		return nil, 0, nil
	}
	if res.end < fi.Size() {
		q.logger.Warn("cutting off a torn or corrupt tail of a queue segment; its records are lost",
			"file", path, "offset", res.end, "bytes", fi.Size()-res.end, "reason", res.reason)
		if err := f.Truncate(res.end); err != nil {
			q.logger.Error("truncating a queue segment", "file", path, "err", err)
		}
	}
	if res.records == 0 {
		q.remove(path)
		return nil, 0, nil
	}
	s.size, s.end, s.samples = res.end, res.end, res.samples
	if readFrom < 0 {
		readFrom = res.end
	}
	return s, readFrom, nil
}

// scanResult describes the valid part of a segment.
type scanResult struct {
	end       int64 // end of the last valid record
	records   int
	samples   int64
	badHeader bool
	reason    string // why the scan stopped before the end of the file
}

// scanSegment reads a segment of size bytes from r and calls visit for
// every valid record, in order. It stops at the first record that is torn
// or fails its checksum.
func scanSegment(r io.Reader, size int64, visit func(off, end int64, samples uint32)) scanResult {
	var magic [len(segmentMagic)]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || string(magic[:]) != segmentMagic {
		return scanResult{badHeader: true}
	}
	res := scanResult{end: segmentHeaderSize}
	var hdr [recordHeaderSize]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !errors.Is(err, io.EOF) {
				res.reason = "torn record header"
			}
			return res
		}
		n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
		if n > maxRecordPayload || n > size-res.end-recordHeaderSize {
			res.reason = "record length runs past the end of the file"
			return res
		}
		if int64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			res.reason = "torn record"
			return res
		}
		if recordChecksum(hdr[:], payload) != binary.LittleEndian.Uint32(hdr[8:12]) {
			res.reason = "checksum mismatch"
			return res
		}
		end := res.end + recordHeaderSize + n
		samples := binary.LittleEndian.Uint32(hdr[4:8])
		visit(res.end, end, samples)
		res.end = end
		res.records++
		res.samples += int64(samples)
	}
}

// recordChecksum is the CRC-32C of a record's length, sample count and
// payload.
func recordChecksum(hdr, payload []byte) uint32 {
	crc := crc32.Update(0, castagnoli, hdr[0:8])
	return crc32.Update(crc, castagnoli, payload)
}

// putRecordHeader fills the first recordHeaderSize bytes of rec, whose
// payload follows them.
func putRecordHeader(rec []byte, samples uint32) {
	payload := rec[recordHeaderSize:]
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:8], samples)
	binary.LittleEndian.PutUint32(rec[8:12], recordChecksum(rec, payload))
}

// readPosition returns the position in the newest valid slot of the
// position file; valid is false when there is none.
func readPosition(path string) (pos position, seq uint64, valid bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return position{}, 0, false, nil
	}
	if err != nil {
		return position{}, 0, false, fmt.Errorf("reading the queue position: %w", err)
	}
	for i := 0; i+slotSize <= len(b) && i < 2*slotSize; i += slotSize {
		slot := b[i : i+slotSize]
		if crc32.Checksum(slot[0:24], castagnoli) != binary.LittleEndian.Uint32(slot[24:28]) {
			continue
		}
		s := binary.LittleEndian.Uint64(slot[0:8])
		seg := binary.LittleEndian.Uint64(slot[8:16])
		if s == 0 || s < seq || seg >= 1<<62 {
			// Segment numbers have 62 bits (see listSegments).
			continue
		}
		off := binary.LittleEndian.Uint64(slot[16:24])
		seq, valid = s, true
		pos = position{seg: seg, off: int64(min(off, 1<<62))}
	}
	return pos, seq, valid, nil
}

// savePosition writes q.pos to the slot after the last one written.
func (q *queue) savePosition() {
	q.posSeq++
	var slot [slotSize]byte
	binary.LittleEndian.PutUint64(slot[0:8], q.posSeq)
	binary.LittleEndian.PutUint64(slot[8:16], q.pos.seg)
	binary.LittleEndian.PutUint64(slot[16:24], uint64(q.pos.off))
	binary.LittleEndian.PutUint32(slot[24:28], crc32.Checksum(slot[0:24], castagnoli))
	err := q.ensurePositionFile()
	if err == nil {
		_, err = q.posFile.WriteAt(slot[:], int64(q.posSeq%2)*slotSize)
	}
	switch {
	case err != nil && !q.posErr:
		q.logger.Error("cannot save the queue position; after a restart some samples may be sent twice", "err", err)
		q.posErr = true
	case err == nil && q.posErr:
		q.logger.Info("saving the queue position works again")
		q.posErr = false
	}
}

// ensurePositionFile reopens the position file when it was removed from
// under the queue (a cleaner deleting the directory, say).
func (q *queue) ensurePositionFile() error {
	path := filepath.Join(q.dir, positionName)
	if q.posFile != nil && sameFile(q.posFile, path) {
		return nil
	}
	if q.posFile != nil {
		_ = q.posFile.Close()
		q.posFile = nil
	}
	if err := os.MkdirAll(q.dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	q.posFile = f
	return nil
}

// sameFile reports whether f is still the file at path.
func sameFile(f interface{ Stat() (os.FileInfo, error) }, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

func (q *queue) remove(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		q.logger.Error("deleting a queue segment", "file", path, "err", err)
	}
}

// append writes one record (header and payload) holding samples. It drops
// the oldest segments to stay within maxSize.
func (q *queue) append(rec []byte, samples int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	need := int64(len(rec))
	if need+segmentHeaderSize > q.maxSize {
		q.m.dropped.WithLabelValues(reasonQueueFull).Add(float64(samples))
		return fmt.Errorf("collection of %d bytes on disk does not fit in a queue of %d bytes", need, q.maxSize)
	}
	if q.head != nil && !sameFile(q.head, q.segPath(q.headSeg.num)) {
		q.logger.Error("the queue segment being written was removed from disk; its unsent samples are lost", "file", q.segPath(q.headSeg.num))
		q.closeHead(false)
		if i := slices.Index(q.segs, q.headSeg); i >= 0 {
			q.dropSegment(i, reasonUnreadable)
		}
	}
	if q.head != nil && q.headSeg.size+need > q.segSize && q.headSeg.size > segmentHeaderSize {
		q.closeHead(true)
	}
	for {
		extra := int64(0)
		if q.head == nil {
			extra = segmentHeaderSize
		}
		if q.bytes+need+extra <= q.maxSize || len(q.segs) == 0 {
			break
		}
		if q.segs[0] == q.headSeg && q.head != nil {
			q.closeHead(true)
		}
		q.logger.Warn("queue full: dropping its oldest segment", "max_size", q.maxSize,
			"segment", q.segs[0].num, "unsent_samples", q.segs[0].samples-q.segs[0].consumed)
		q.dropSegment(0, reasonQueueFull)
	}
	if err := q.write(rec); err != nil {
		q.m.dropped.WithLabelValues(reasonWriteError).Add(float64(samples))
		q.failLost += samples
		if !q.failing {
			q.logger.Error("cannot write to the queue; collections are dropped until writing works again (is the disk full?)",
				"dir", q.dir, "err", err)
			q.failing = true
		} else {
			q.logger.Debug("queue write failed", "err", err)
		}
		q.updateGauges()
		return fmt.Errorf("writing to the queue: %w", err)
	}
	q.headSeg.size += need
	q.headSeg.end += need
	q.headSeg.samples += samples
	q.bytes += need
	if q.failing {
		q.logger.Info("writing to the queue works again", "dropped_samples", q.failLost)
		q.failing, q.failLost = false, 0
	}
	q.updateGauges()
	return nil
}

// write appends rec to the head segment, opening one when needed. On
// failure the head is closed so that the next write starts a new segment.
func (q *queue) write(rec []byte) error {
	if q.head == nil {
		if err := q.openHead(); err != nil {
			return err
		}
	}
	n, err := q.head.Write(rec)
	if err == nil && n != len(rec) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 {
			if terr := q.head.Truncate(q.headSeg.size); terr != nil {
				q.logger.Warn("cannot cut a partly written record off a queue segment; it will be skipped", "err", terr)
				q.headSeg.size += int64(n)
				q.bytes += int64(n)
			}
		}
		q.closeHead(false)
		return err
	}
	return nil
}

// openHead starts a new segment after the newest one.
func (q *queue) openHead() error {
	if err := os.MkdirAll(q.dir, 0o700); err != nil {
		return err
	}
	var (
		f    segmentFile
		path string
		err  error
	)
	for range 3 {
		q.lastNum++
		path = q.segPath(q.lastNum)
		f, err = q.create(path)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(segmentMagic)); err != nil {
		_ = f.Close()
		q.remove(path)
		return err
	}
	q.head = f
	q.headSeg = &segment{num: q.lastNum, size: segmentHeaderSize, end: segmentHeaderSize}
	q.segs = append(q.segs, q.headSeg)
	q.bytes += segmentHeaderSize
	return nil
}

// closeHead seals the head segment; sync says whether to flush it first.
func (q *queue) closeHead(sync bool) {
	if q.head == nil {
		return
	}
	if sync {
		if err := q.head.Sync(); err != nil {
			q.logger.Error("syncing a queue segment", "segment", q.headSeg.num, "err", err)
		}
	}
	if err := q.head.Close(); err != nil {
		q.logger.Error("closing a queue segment", "segment", q.headSeg.num, "err", err)
	}
	q.head = nil
}

// dropSegment deletes segment i before it was sent and counts its unsent
// samples with reason.
func (q *queue) dropSegment(i int, reason string) {
	s := q.segs[i]
	if s == q.headSeg {
		q.closeHead(false)
	}
	if lost := s.samples - s.consumed - s.inflight; lost > 0 {
		q.m.dropped.WithLabelValues(reason).Add(float64(lost))
	}
	s.dropped = true
	q.deleteSegment(i)
}

// deleteSegment removes segment i from disk and from the queue.
func (q *queue) deleteSegment(i int) {
	s := q.segs[i]
	if q.rf != nil && q.rfNum == s.num {
		_ = q.rf.Close()
		q.rf = nil
	}
	q.remove(q.segPath(s.num))
	q.bytes -= s.size
	q.segs = slices.Delete(q.segs, i, i+1)
}

// batchRecord is one record of a batch.
type batchRecord struct {
	seg     *segment
	payload []byte // snappy block
	size    int    // decoded bytes of payload, 0 when bad
	samples int64
	end     position // just after this record
	bad     bool     // payload does not decode: skipped when sent
}

// batch is a run of consecutive records from the committed position.
type batch struct {
	records []batchRecord
	samples int64
}

// next returns up to maxSamples samples (at least one record) and up to
// maxBytes decoded bytes from the committed position, or nil when the queue
// is caught up. The records stay in the queue until commit.
func (q *queue) next(maxSamples int64, maxBytes int) (*batch, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, ErrClosed
	}
	var (
		b    batch
		size int
		p    = q.pos
	)
	for i := q.findSegment(p.seg); i < len(q.segs); i++ {
		s := q.segs[i]
		if s.num != p.seg || p.off < segmentHeaderSize {
			p = position{seg: s.num, off: segmentHeaderSize}
		}
		for p.off < s.end {
			payload, samples, err := q.readRecord(s, p.off)
			if err != nil {
				if !lostForGood(err) {
					// Perhaps passing (too many open files, say):
					// send what was read, try again later.
					if len(b.records) > 0 {
						return &b, nil
					}
					return nil, fmt.Errorf("reading the queue: %w", err)
				}
				q.markUnreadable(s, p.off, err)
				break
			}
			dl, err := snappy.DecodedLen(payload)
			bad := err != nil || dl > maxRecordPayload
			if bad {
				dl = 0
			}
			if len(b.records) > 0 && (b.samples+samples > maxSamples || size+dl > maxBytes) {
				return &b, nil
			}
			p.off += recordHeaderSize + int64(len(payload))
			b.records = append(b.records, batchRecord{seg: s, payload: payload, size: dl, samples: samples, end: p, bad: bad})
			b.samples += samples
			size += dl
			s.inflight += samples
		}
	}
	if len(b.records) == 0 {
		return nil, nil
	}
	return &b, nil
}

// shrink keeps the first n records of b and releases the others.
func (q *queue) shrink(b *batch, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range b.records[n:] {
		r.seg.inflight -= r.samples
		b.samples -= r.samples
	}
	b.records = b.records[:n]
}

// findSegment returns the index of the first segment numbered num or
// later.
func (q *queue) findSegment(num uint64) int {
	i, _ := slices.BinarySearchFunc(q.segs, num, func(s *segment, n uint64) int {
		switch {
		case s.num < n:
			return -1
		case s.num > n:
			return 1
		}
		return 0
	})
	return i
}

// readRecord reads and checks the record at off in s.
func (q *queue) readRecord(s *segment, off int64) ([]byte, int64, error) {
	if q.rf == nil || q.rfNum != s.num {
		if q.rf != nil {
			_ = q.rf.Close()
			q.rf = nil
		}
		f, err := os.Open(q.segPath(s.num))
		if err != nil {
			return nil, 0, err
		}
		q.rf, q.rfNum = f, s.num
	}
	var hdr [recordHeaderSize]byte
	if _, err := q.rf.ReadAt(hdr[:], off); err != nil {
		return nil, 0, err
	}
	n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
	if n > s.end-off-recordHeaderSize {
		return nil, 0, fmt.Errorf("%w: length %d runs past the end of the segment", errCorrupt, n)
	}
	payload := make([]byte, n)
	if _, err := q.rf.ReadAt(payload, off+recordHeaderSize); err != nil {
		return nil, 0, err
	}
	if recordChecksum(hdr[:], payload) != binary.LittleEndian.Uint32(hdr[8:12]) {
		return nil, 0, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	return payload, int64(binary.LittleEndian.Uint32(hdr[4:8])), nil
}

// lostForGood tells read errors that will not go away: the file is gone,
// shorter than written, or damaged.
func lostForGood(err error) bool {
	return errors.Is(err, errCorrupt) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// markUnreadable gives up on segment s from off on: a record there cannot
// be read (the file was removed or damaged while the queue was open).
func (q *queue) markUnreadable(s *segment, off int64, err error) {
	lost := s.samples - s.consumed - s.inflight
	q.logger.Error("cannot read the queue; skipping the rest of the segment", "file", q.segPath(s.num),
		"offset", off, "lost_samples", lost, "err", err)
	if lost > 0 {
		q.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(lost))
	}
	s.samples -= lost
	s.end = off
	if s == q.headSeg {
		q.closeHead(false)
	}
	q.updateGauges()
}

// commit marks the first n records of b as done (sent or rejected) and
// releases the rest for the next batch.
func (q *queue) commit(b *batch, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, r := range b.records {
		r.seg.inflight -= r.samples
		if i < n && !r.seg.dropped {
			r.seg.consumed += r.samples
		}
	}
	if n == 0 || q.closed {
		return
	}
	q.pos = b.records[n-1].end
	// Move past segments that are read to the end, so that they can go.
	i := q.findSegment(q.pos.seg)
	if i < len(q.segs) && q.segs[i].num != q.pos.seg {
		q.pos = position{seg: q.segs[i].num, off: segmentHeaderSize}
	}
	for i+1 < len(q.segs) && q.segs[i].num == q.pos.seg && q.pos.off >= q.segs[i].end {
		i++
		q.pos = position{seg: q.segs[i].num, off: segmentHeaderSize}
	}
	q.savePosition()
	for len(q.segs) > 0 && q.segs[0].num < q.pos.seg {
		q.deleteSegment(0)
	}
	q.updateGauges()
}

// updateGauges sets the queue gauges; mu is held.
func (q *queue) updateGauges() {
	q.m.queueBytes.Set(float64(q.bytes))
	q.m.pendingSamples.Set(float64(q.pendingLocked()))
}

// size returns the bytes of the queue's segment files.
func (q *queue) size() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// pending returns the samples not yet sent.
func (q *queue) pending() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pendingLocked()
}

// pendingLocked returns the samples not yet sent; mu is held.
func (q *queue) pendingLocked() int64 {
	var n int64
	for _, s := range q.segs {
		n += s.samples - s.consumed
	}
	return n
}

// close syncs and closes the queue's files.
func (q *queue) close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	var errs []error
	if q.head != nil {
		if err := q.head.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("syncing the queue: %w", err))
		}
	}
	if q.posFile != nil {
		if err := q.posFile.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("syncing the queue position: %w", err))
		}
	}
	errs = append(errs, q.closeFiles())
	return errors.Join(errs...)
}

// closeFiles closes every open file, the lock last.
func (q *queue) closeFiles() error {
	var errs []error
	if q.head != nil {
		errs = append(errs, q.head.Close())
		q.head = nil
	}
	if q.rf != nil {
		errs = append(errs, q.rf.Close())
		q.rf = nil
	}
	if q.posFile != nil {
		errs = append(errs, q.posFile.Close())
		q.posFile = nil
	}
	if q.lock != nil {
		errs = append(errs, q.lock.Close())
		q.lock = nil
	}
	return errors.Join(errs...)
}
