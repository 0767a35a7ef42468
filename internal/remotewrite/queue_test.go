package remotewrite

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// segments returns the queue's segment files, oldest first.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	nums, err := listSegments(dir)
	require.NoError(t, err)
	var out []string
	for _, n := range nums {
		out = append(out, filepath.Join(dir, fmt.Sprintf("%020d.seg", n)))
	}
	return out
}

// diskBytes is what the queue's files take, as the file system says.
func diskBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, p := range segments(t, dir) {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		n += fi.Size()
	}
	return n
}

func TestRestartKeepsQueue(t *testing.T) {
	rv := newReceiver(t)
	srv := startServer(t, rv)
	url := srv.URL + "/api/v1/write"
	dir := t.TempDir()

	// Queued, closed, reopened: everything is sent once.
	c := newClient(t, dir, url, nil)
	c.enqueue(t, 0, 30, 40)
	require.NoError(t, c.Close())
	c = newClient(t, dir, url, nil)
	require.EqualValues(t, 30*40, testutil.ToFloat64(c.m.pendingSamples))
	stop := c.run(t)
	waitFor(t, "30 collections", func() bool { return testutil.ToFloat64(c.m.samplesSent) == 30*40 })

	// The position is saved: after a restart only what is new is sent.
	stop()
	c.enqueue(t, 30, 40, 40)
	require.NoError(t, c.Close())
	c = newClient(t, dir, url, nil)
	c.run(t)
	waitFor(t, "10 more collections", func() bool { return rv.count() >= 40*40 && testutil.ToFloat64(c.m.pendingSamples) == 0 })
	time.Sleep(50 * time.Millisecond)
	verify(t, rv.got(), span(0, 40), 40, true)
}

// TestCrashDurability kills a process that queued collections (SIGKILL,
// no Close) and checks that a new one sends them all.
func TestCrashDurability(t *testing.T) {
	if dir := os.Getenv("REMOTEWRITE_CRASH_DIR"); dir != "" {
		c, err := New(Options{URL: "http://127.0.0.1:1/api/v1/write", Dir: dir, MaxQueueSize: 256 << 10,
			Logger: discardLogger(), Registerer: newRegistry()})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		for i := range 200 {
			if err := c.Enqueue(collection(i, 30)); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
		}
		fmt.Println("enqueued")
		select {} // wait for SIGKILL
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REMOTEWRITE_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "enqueued\n", line)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	require.Error(t, cmd.Wait())

	rv := newReceiver(t)
	srv := startServer(t, rv)
	c := newClient(t, dir, srv.URL, func(o *Options) { o.MaxQueueSize = 256 << 10 })
	require.Greater(t, len(segments(t, dir)), 1, "the child wrote several segments")
	c.run(t)
	waitSent(t, c, rv, "200 collections", 200*30)
	verify(t, rv.got(), span(0, 200), 30, true)
	require.Zero(t, c.dropped(reasonQueueFull))
	require.NotContains(t, c.logs.String(), "cutting off")
}

func TestRecoverDamagedTail(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, size int64)
		want   []int
		logs   string
	}{
		{
			name:   "torn last record",
			damage: func(t *testing.T, path string, size int64) { require.NoError(t, os.Truncate(path, size-5)) },
			want:   span(0, 9),
			logs:   "record length runs past the end of the file",
		},
		{
			name:   "torn record header",
			damage: func(t *testing.T, path string, size int64) { require.NoError(t, os.Truncate(path, size+7)) },
			want:   span(0, 10),
			logs:   "torn record header",
		},
		{
			name: "flipped byte in the last record",
			damage: func(t *testing.T, path string, size int64) {
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				require.NoError(t, err)
				defer f.Close()
				b := make([]byte, 1)
				_, err = f.ReadAt(b, size-3)
				require.NoError(t, err)
				b[0] ^= 0x40
				_, err = f.WriteAt(b, size-3)
				require.NoError(t, err)
			},
			want: span(0, 9),
			logs: "checksum mismatch",
		},
		{
			name: "garbage appended",
			damage: func(t *testing.T, path string, _ int64) {
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				require.NoError(t, err)
				defer f.Close()
				_, err = f.Write([]byte("\xff\xff\xff\x7fgarbage after a crash"))
				require.NoError(t, err)
			},
			want: span(0, 10),
			logs: "record length runs past the end of the file",
		},
		{
			name: "position file destroyed",
			damage: func(t *testing.T, path string, _ int64) {
				require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(path), positionName), []byte("nonsense"), 0o600))
			},
			want: span(0, 10),
			logs: "queue position file is unreadable",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := newClient(t, dir, "http://127.0.0.1:1", nil)
			c.enqueue(t, 0, 10, 25)
			require.NoError(t, c.Close())
			segs := segments(t, dir)
			require.Len(t, segs, 1)
			fi, err := os.Stat(segs[0])
			require.NoError(t, err)
			tc.damage(t, segs[0], fi.Size())

			rv := newReceiver(t)
			srv := startServer(t, rv)
			c = newClient(t, dir, srv.URL, nil)
			require.Contains(t, c.logs.String(), tc.logs)
			c.run(t)
			waitSent(t, c, rv, "valid records", len(tc.want)*25)
			time.Sleep(20 * time.Millisecond)
			verify(t, rv.got(), tc.want, 25, true)
			// The file was cut back to its valid records.
			c.enqueue(t, 10, 11, 25)
			waitSent(t, c, rv, "a new record", (len(tc.want)+1)*25)
		})
	}
}

func TestQueueFullDropsOldest(t *testing.T) {
	const (
		maxSize = 64 << 10
		nSeries = 20
		n       = 400
	)
	dir := t.TempDir()
	addr := freeAddr(t)
	c := newClient(t, dir, "http://"+addr, func(o *Options) { o.MaxQueueSize = maxSize })
	for i := range n {
		require.NoError(t, c.Enqueue(collection(i, nSeries)))
		require.LessOrEqual(t, c.QueueBytes(), int64(maxSize))
		require.LessOrEqual(t, diskBytes(t, dir), int64(maxSize))
	}
	require.Equal(t, c.QueueBytes(), diskBytes(t, dir))
	dropped := c.dropped(reasonQueueFull)
	require.Greater(t, dropped, float64(n*nSeries)/2, "most of it did not fit")
	require.Zero(t, int(dropped)%nSeries, "whole collections are dropped")
	require.Contains(t, c.logs.String(), "queue full: dropping its oldest segment")

	// The newest are delivered, in order, and nothing in between is lost.
	rv := newReceiver(t)
	srv := startServer(t, rv)
	require.NoError(t, c.Close())
	c = newClient(t, dir, srv.URL, func(o *Options) { o.MaxQueueSize = maxSize })
	c.run(t)
	first := int(dropped) / nSeries
	waitSent(t, c, rv, "the newest collections", (n-first)*nSeries)
	verify(t, rv.got(), span(first, n), nSeries, true)
}

// fullFile is a segment file on a disk that fills up: after limit bytes,
// writes are cut short with ENOSPC, as write(2) does.
type fullFile struct {
	*os.File
	limit int
}

func (f *fullFile) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		f.limit -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:f.limit])
	f.limit = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func TestWriteErrors(t *testing.T) {
	t.Run("disk full (/dev/full)", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full")
		}
		rv := newReceiver(t)
		srv := startServer(t, rv)
		dir := t.TempDir()
		c := newClient(t, dir, srv.URL, nil)
		c.q.create = func(string) (segmentFile, error) { return os.OpenFile("/dev/full", os.O_WRONLY, 0) }
		for i := range 3 {
			err := c.Enqueue(collection(i, 10))
			require.ErrorIs(t, err, syscall.ENOSPC)
		}
		require.EqualValues(t, 30, c.dropped(reasonWriteError))
		require.Equal(t, 1, c.logs.count("cannot write to the queue"))
		require.Empty(t, segments(t, dir))

		c.q.mu.Lock()
		c.q.create = createSegmentFile
		c.q.mu.Unlock()
		c.enqueue(t, 3, 5, 10)
		require.Contains(t, c.logs.String(), "writing to the queue works again")
		c.run(t)
		waitSent(t, c, rv, "collections written after the disk recovered", 20)
		verify(t, rv.got(), span(3, 5), 10, true)
	})

	t.Run("write cut short", func(t *testing.T) {
		dir := t.TempDir()
		rec, _, err := encodeRecord(collection(0, 10))
		require.NoError(t, err)
		recSize := len(rec)
		c := newClient(t, dir, "http://127.0.0.1:1", nil)
		c.q.create = func(path string) (segmentFile, error) {
			f, err := createSegmentFile(path)
			if err != nil {
				return nil, err
			}
			// Room for the header, two collections and a half.
			return &fullFile{File: f.(*os.File), limit: int(segmentHeaderSize) + 5*recSize/2}, nil
		}
		var failed []int
		for i := range 6 {
			if err := c.Enqueue(collection(i, 10)); err != nil {
				require.ErrorIs(t, err, syscall.ENOSPC)
				failed = append(failed, i)
			}
		}
		require.NotEmpty(t, failed)
		require.EqualValues(t, 10*len(failed), c.dropped(reasonWriteError))
		require.Equal(t, c.QueueBytes(), diskBytes(t, dir), "partial records are cut off")
		require.NoError(t, c.Close())

		rv := newReceiver(t)
		srv := startServer(t, rv)
		c = newClient(t, dir, srv.URL, nil)
		require.NotContains(t, c.logs.String(), "cutting off")
		c.run(t)
		var want []int
		for i := range 6 {
			if !contains(failed, i) {
				want = append(want, i)
			}
		}
		waitSent(t, c, rv, "the collections that were written", 10*len(want))
		verify(t, rv.got(), want, 10, true)
	})

	t.Run("directory replaced by a file", func(t *testing.T) {
		rv := newReceiver(t)
		srv := startServer(t, rv)
		dir := filepath.Join(t.TempDir(), "queue")
		c := newClient(t, dir, srv.URL, nil)
		c.enqueue(t, 0, 1, 10)

		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.WriteFile(dir, []byte("not a directory"), 0o600))
		err := c.Enqueue(collection(1, 10))
		require.Error(t, err)
		require.True(t, errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST), "%v", err)
		require.EqualValues(t, 10, c.dropped(reasonWriteError))
		require.EqualValues(t, 10, c.dropped(reasonUnreadable), "the collection in the removed segment")
		require.Contains(t, c.logs.String(), "the queue segment being written was removed from disk")

		require.NoError(t, os.Remove(dir))
		c.enqueue(t, 2, 4, 10)
		c.run(t)
		waitSent(t, c, rv, "collections written after the directory came back", 20)
		verify(t, rv.got(), span(2, 4), 10, true)
		// The position is saved in the new directory.
		_, err = os.Stat(filepath.Join(dir, positionName))
		require.NoError(t, err)
	})
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestPositionSlots(t *testing.T) {
	dir := t.TempDir()
	c := newClient(t, dir, "http://127.0.0.1:1", nil)
	c.q.mu.Lock()
	for i := range 5 {
		c.q.pos = position{seg: 7, off: int64(100 + i)}
		c.q.savePosition()
	}
	c.q.mu.Unlock()
	path := filepath.Join(dir, positionName)
	pos, seq, ok, err := readPosition(path)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, position{seg: 7, off: 104}, pos)
	require.EqualValues(t, 5, seq)

	// A torn write of the newest slot falls back to the one before.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[(5%2)*slotSize+3] ^= 1
	require.NoError(t, os.WriteFile(path, b, 0o600))
	pos, _, ok, err = readPosition(path)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, position{seg: 7, off: 103}, pos)
	require.Len(t, b, 2*slotSize)
}
