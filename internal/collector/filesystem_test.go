package collector

import (
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// hangingStatfs answers like the fixture, except that the mount points in
// hang block until release is closed. It counts the calls per mount point.
type hangingStatfs struct {
	root    string
	hang    map[string]bool
	release chan struct{}
	mu      sync.Mutex
	calls   map[string]int
}

func (h *hangingStatfs) statfs(path string, buf *unix.Statfs_t) error {
	mp := path[len(h.root):]
	if mp == "" {
		mp = "/"
	}
	h.mu.Lock()
	h.calls[mp]++
	h.mu.Unlock()
	if h.hang[mp] {
		<-h.release
	}
	return fixtureStatfsMount(mp, buf)
}

func (h *hangingStatfs) count(mp string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[mp]
}

func TestFilesystem_HungStatfs(t *testing.T) {
	// Long enough that a loaded machine (the race detector, CI) stays far
	// from the margins: one timeout, not two, and no wait at all.
	const timeout = time.Second
	logs := &logRecorder{}
	o := fixtureOptions("testdata", logs)
	o.Disabled = []string{"tcpstat", "netstat"} // irrelevant here
	h := &hangingStatfs{
		root:    filepath.Clean(o.RootPath),
		hang:    map[string]bool{"/mnt/nfs": true, "/data": true},
		release: make(chan struct{}),
		calls:   map[string]int{},
	}
	o.Statfs = h.statfs
	o.StatfsTimeout = timeout
	n := newFixtureNode(t, o)

	nfs := []string{"device", "fileserver:/export", "fstype", "nfs4", "mountpoint", "/mnt/nfs"}
	data := []string{"device", "/dev/sda1", "fstype", "xfs", "mountpoint", "/data"}
	root := []string{"device", "/dev/vda", "fstype", "ext4", "mountpoint", "/"}

	// Two hung mounts share one deadline: the collection returns after
	// about one timeout, not two.
	start := time.Now()
	mfs := gather(t, n)
	took := time.Since(start)
	require.GreaterOrEqual(t, took, timeout)
	require.Less(t, took, 2*timeout, "hung mounts must share the deadline")
	require.Equal(t, 1.0, successes(mfs)["filesystem"])
	for _, labels := range [][]string{nfs, data} {
		v, ok := value(mfs, "node_filesystem_device_error", labels...)
		require.True(t, ok)
		require.Equal(t, 1.0, v, "%v", labels)
		_, ok = value(mfs, "node_filesystem_size_bytes", labels...)
		require.False(t, ok, "no sizes for a hung mount")
		_, ok = value(mfs, "node_filesystem_readonly", labels...)
		require.True(t, ok)
	}
	v, _ := value(mfs, "node_filesystem_device_error", root...)
	require.Equal(t, 0.0, v)
	v, ok := value(mfs, "node_filesystem_size_bytes", root...)
	require.True(t, ok)
	require.Equal(t, 4096.0*66053997, v)

	// While the calls hang, the mounts are not statted again and cost no
	// time.
	start = time.Now()
	mfs = gather(t, n)
	require.Less(t, time.Since(start), timeout)
	v, _ = value(mfs, "node_filesystem_device_error", nfs...)
	require.Equal(t, 1.0, v)
	require.Equal(t, 1, h.count("/mnt/nfs"))
	require.Equal(t, 1, h.count("/data"))
	require.Equal(t, 2, h.count("/"))

	// Once the calls return, the mounts are statted again.
	close(h.release)
	require.Eventually(t, func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		fc := filesystemOf(n)
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return len(fc.stuck) == 0
	}, 5*time.Second, 5*time.Millisecond)
	mfs = gather(t, n)
	v, _ = value(mfs, "node_filesystem_device_error", nfs...)
	require.Equal(t, 0.0, v)
	v, ok = value(mfs, "node_filesystem_size_bytes", nfs...)
	require.True(t, ok)
	require.Equal(t, 1048576.0*1024000, v)
	require.Equal(t, 2, h.count("/mnt/nfs"))

	// Each timeout was logged once, and so was each return.
	timeouts, returns := 0, 0
	for _, r := range logs.records {
		switch {
		case r.level == slog.LevelWarn && r.attrs["mountpoint"] != "/mnt/broken" && r.attrs["collector"] == "filesystem":
			timeouts++
		case r.level == slog.LevelInfo && r.attrs["collector"] == "filesystem" && r.attrs["path"] != "":
			returns++
		}
	}
	require.Equal(t, 2, timeouts)
	require.Equal(t, 2, returns)
}

// filesystemOf returns the filesystem collector of n.
func filesystemOf(n *Node) *filesystemCollector {
	for _, e := range n.collectors {
		if fc, ok := e.c.(*filesystemCollector); ok {
			return fc
		}
	}
	return nil
}

func TestFilesystem_StatfsError(t *testing.T) {
	logs := &logRecorder{}
	o := fixtureOptions("testdata", logs)
	var fail atomic.Bool
	fail.Store(true)
	fixture := o.Statfs
	o.Statfs = func(path string, buf *unix.Statfs_t) error {
		if fail.Load() && filepath.Base(path) == "data" {
			return unix.EACCES
		}
		return fixture(path, buf)
	}
	n := newFixtureNode(t, o)
	data := []string{"device", "/dev/sda1", "fstype", "xfs", "mountpoint", "/data"}
	warnings := func() int {
		c := 0
		for _, r := range logs.records {
			if r.level == slog.LevelWarn && r.attrs["mountpoint"] == "/data" {
				c++
			}
		}
		return c
	}
	for range 2 {
		mfs := gather(t, n)
		require.Equal(t, 1.0, successes(mfs)["filesystem"], "a failing mount does not fail the collector")
		v, ok := value(mfs, "node_filesystem_device_error", data...)
		require.True(t, ok)
		require.Equal(t, 1.0, v)
		_, ok = value(mfs, "node_filesystem_avail_bytes", data...)
		require.False(t, ok)
		v, _ = value(mfs, "node_filesystem_device_error", "device", "/dev/vda", "fstype", "ext4", "mountpoint", "/")
		require.Equal(t, 0.0, v)
	}
	require.Equal(t, 1, warnings(), "logged once over two collections")

	fail.Store(false)
	mfs := gather(t, n)
	v, _ := value(mfs, "node_filesystem_device_error", data...)
	require.Equal(t, 0.0, v)
	v, ok := value(mfs, "node_filesystem_avail_bytes", data...)
	require.True(t, ok)
	require.Equal(t, 4096.0*122095104, v)
}

func TestFilesystem_RootPath(t *testing.T) {
	// Mount points listed with the root's prefix (a mount table read from
	// inside the container) lose it in labels and are statted as listed.
	logs := &logRecorder{}
	o := fixtureOptions(t.TempDir(), logs)
	o.ProcPath = "testdata/proc"
	o.RootPath = "/srv/my files"
	var mu sync.Mutex
	var paths []string
	o.Statfs = func(path string, buf *unix.Statfs_t) error {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, path)
		return nil
	}
	o.FilesystemMountPointsExclude = "^/(dev|proc|sys)(/|$)"
	mfs := gather(t, newFixtureNode(t, o))
	require.Contains(t, paths, "/srv/my files")      // the root itself
	require.Contains(t, paths, "/srv/my files/data") // a host mount point under the root
	_, ok := value(mfs, "node_filesystem_size_bytes", "device", "/dev/nvme0n1p1", "fstype", "ext4", "mountpoint", "/")
	require.True(t, ok)
}
