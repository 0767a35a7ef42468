package remotewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// openTestQueue opens a queue on dir without a client.
func openTestQueue(t testing.TB, dir string) *queue {
	t.Helper()
	q, err := openQueue(queueOptions{dir: dir, maxSize: 1 << 20, logger: discardLogger(), metrics: &newMetrics().queueMetrics})
	require.NoError(t, err)
	return q
}

// drain reads the whole queue as Run would, without a network, and
// returns the payloads of the records in order.
func drain(t testing.TB, q *queue) [][]byte {
	t.Helper()
	c := &Client{logger: discardLogger(), m: &metrics{queueMetrics: *q.m}, q: q}
	var out [][]byte
	for range 10000 {
		b, err := q.next(1000, maxBatchBytes)
		require.NoError(t, err)
		if b == nil {
			return out
		}
		_, _ = c.encode(b)
		for _, r := range b.records {
			out = append(out, r.payload)
		}
		q.commit(b, len(b.records))
	}
	t.Fatal("the queue does not drain")
	return nil
}

// validSegment returns a segment file with n records and the records.
func validSegment(t testing.TB, n int) (file []byte, records [][]byte) {
	t.Helper()
	dir := t.TempDir()
	q := openTestQueue(t, dir)
	for i := range n {
		rec, samples, err := encodeRecord(collection(i, 1+i%4))
		require.NoError(t, err)
		require.NoError(t, q.append(rec, samples))
		records = append(records, rec[recordHeaderSize:])
	}
	require.NoError(t, q.close())
	file, err := os.ReadFile(q.segPath(1))
	require.NoError(t, err)
	return file, records
}

// FuzzQueueOpen opens a queue whose first segment holds arbitrary bytes,
// whose second holds one well-framed record around an arbitrary payload,
// and whose position file holds arbitrary bytes: nothing may panic, and
// the queue must go on working.
func FuzzQueueOpen(f *testing.F) {
	file, records := validSegment(f, 5)
	pos := make([]byte, 2*slotSize)
	f.Add(file, pos, records[0])
	f.Add(file[:len(file)-3], []byte{}, []byte{})
	f.Add([]byte(segmentMagic), []byte("garbage"), []byte("\xff\xff\xff\x7f"))
	f.Add([]byte{}, []byte{}, []byte{0})
	f.Add(append(bytes.Clone(file), 0xff, 0xff, 0xff, 0xff, 1, 2, 3), pos, []byte("\x05\x10hello"))
	f.Fuzz(func(t *testing.T, seg, posFile, payload []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), seg, 0o600))
		framed := make([]byte, recordHeaderSize+len(payload))
		copy(framed[recordHeaderSize:], payload)
		putRecordHeader(framed, uint32(len(payload)))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000002.seg"), append([]byte(segmentMagic), framed...), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, positionName), posFile, 0o600))
		q := openTestQueue(t, dir)
		drain(t, q)
		// The queue goes on working after whatever it found.
		rec, samples, err := encodeRecord(collection(1, 2))
		require.NoError(t, err)
		require.NoError(t, q.append(rec, samples))
		got := drain(t, q)
		require.Len(t, got, 1)
		require.Equal(t, rec[recordHeaderSize:], got[0])
		require.Zero(t, q.pending())
		require.NoError(t, q.close())
		// And it opens again.
		q = openTestQueue(t, dir)
		require.Empty(t, drain(t, q))
		require.NoError(t, q.close())
	})
}

// FuzzQueueRecover damages the tail of a valid segment and checks that
// every record before the damage is recovered, in order.
func FuzzQueueRecover(f *testing.F) {
	f.Add(uint8(5), uint16(100), []byte{})
	f.Add(uint8(10), uint16(1000), []byte("\x10\x00\x00\x00garbage"))
	f.Add(uint8(1), uint16(9), []byte{0xff})
	f.Fuzz(func(t *testing.T, n uint8, cut uint16, garbage []byte) {
		file, records := validSegment(t, 1+int(n%20))
		at := int64(cut) % int64(len(file)+1)
		damaged := append(bytes.Clone(file[:at]), garbage...)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), damaged, 0o600))
		q := openTestQueue(t, dir)
		got := drain(t, q)
		require.NoError(t, q.close())

		intact := 0
		end := segmentHeaderSize
		for _, r := range records {
			end += recordHeaderSize + int64(len(r))
			if end > at {
				break
			}
			intact++
		}
		require.GreaterOrEqual(t, len(got), intact)
		for i := range intact {
			require.Equal(t, records[i], got[i], "record %d", i)
		}
	})
}
