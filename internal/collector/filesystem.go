package collector

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"
)

// mountinfo is the part of a /proc/<pid>/mountinfo line the collector uses.
type mountinfo struct {
	mountPoint string
	fsType     string
	source     string
	readonly   bool
}

// parseMountinfoLine parses "id parent major:minor root mountpoint options
// [optional…] - fstype source superoptions". Octal escapes (\040 for a
// space) in the mount point and source are decoded.
func parseMountinfoLine(line []byte) (mountinfo, error) {
	var m mountinfo
	rest := line
	var fields [6][]byte
	for i := range fields {
		fields[i], rest = nextField(rest)
		if len(fields[i]) == 0 {
			return m, malformed("mountinfo", "line %q", line)
		}
	}
	for { // optional fields up to the separator
		var f []byte
		f, rest = nextField(rest)
		if len(f) == 0 {
			return m, malformed("mountinfo", "no separator in line %q", line)
		}
		if len(f) == 1 && f[0] == '-' {
			break
		}
	}
	fsType, rest := nextField(rest)
	source, rest := nextField(rest)
	superOptions, _ := nextField(rest)
	if len(fsType) == 0 || len(source) == 0 {
		return m, malformed("mountinfo", "line %q", line)
	}
	m.mountPoint = unescapeMountinfo(fields[4])
	m.fsType = string(fsType)
	m.source = unescapeMountinfo(source)
	m.readonly = hasOption(fields[5], "ro") || hasOption(superOptions, "ro")
	return m, nil
}

// hasOption reports whether the comma-separated options include opt.
func hasOption(options []byte, opt string) bool {
	for len(options) > 0 {
		var o []byte
		o, options, _ = bytes.Cut(options, []byte(","))
		if string(o) == opt {
			return true
		}
	}
	return false
}

// unescapeMountinfo decodes the kernel's octal escapes (\040, \011, \012,
// \134) in a mountinfo field.
func unescapeMountinfo(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && isOctal(b[i+1]) && isOctal(b[i+2]) && isOctal(b[i+3]) {
			v := int(b[i+1]-'0')<<6 | int(b[i+2]-'0')<<3 | int(b[i+3]-'0')
			if v <= 0xff {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// mount is a cached mountinfo line: its labels, what to statfs and whether
// it is excluded, decided once per distinct line.
type mount struct {
	mountinfo
	key        string // device, fstype and mount point: the series' identity
	statfsPath string
	labels     []*dto.LabelPair
	excluded   bool
	gen        uint64
	failing    bool // statfs failed last time; logged once
}

// statfsCall is one statfs in flight.
type statfsCall struct {
	done chan struct{} // closed when the call has returned
	buf  unix.Statfs_t
	err  error
}

// Errors of statfs calls that are logged where they happen, not per mount.
var (
	// errStuck reports a mount point whose earlier statfs has not returned.
	errStuck = errors.New("an earlier statfs has not returned")
	// errTimedOut reports a statfs that did not return in time.
	errTimedOut = errors.New("statfs timed out")
)

// filesystemCollector exports node_filesystem_* for the mounts in
// /proc/1/mountinfo (or /proc/self/mountinfo) that the exclusion options
// keep. Every statfs runs in its own goroutine and all of them share one
// deadline of StatfsTimeout, so hung network mounts cannot hang the
// collection; a mount point whose call timed out is reported with
// device_error 1, without a new call, until the old call returns.
type filesystemCollector struct {
	e                     *env
	paths                 [2]string
	mounts                map[string]*mount // by mountinfo line
	emitted               map[string]uint64 // key -> collection it was sent in
	list                  []*mount
	calls                 []*statfsCall
	timer                 *time.Timer
	size, free, avail     family
	files, filesFree      family
	readonly, deviceError family

	mu    sync.Mutex             // guards stuck; statfs goroutines take it
	stuck map[string]*statfsCall // by statfs path
}

func newFilesystemCollector(e *env) (collector, error) {
	labels := []string{"device", "fstype", "mountpoint"}
	gauge := func(name, help string) family {
		return newFamily("node_filesystem_"+name, help, prometheus.GaugeValue, labels...)
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &filesystemCollector{
		e:           e,
		paths:       [2]string{e.procPath("1", "mountinfo"), e.procPath("self", "mountinfo")},
		mounts:      map[string]*mount{},
		emitted:     map[string]uint64{},
		stuck:       map[string]*statfsCall{},
		timer:       t,
		size:        gauge("size_bytes", "Filesystem size in bytes."),
		free:        gauge("free_bytes", "Filesystem free space in bytes."),
		avail:       gauge("avail_bytes", "Filesystem space available to non-root users in bytes."),
		files:       gauge("files", "Filesystem total file nodes."),
		filesFree:   gauge("files_free", "Filesystem total free file nodes."),
		readonly:    gauge("readonly", "Filesystem read-only status."),
		deviceError: gauge("device_error", "Whether an error occurred while getting statistics for the given device."),
	}, nil
}

func (c *filesystemCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.paths[0])
	if err != nil {
		data, err = c.e.buf.read(c.paths[1])
	}
	if err != nil {
		return err
	}
	gen := c.e.gen
	c.list = c.list[:0]
	seen := 0
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := c.mount(line)
		if err != nil {
			return err
		}
		if m.gen == gen {
			continue
		}
		m.gen = gen
		seen++
		if m.excluded || c.emitted[m.key] == gen { // excluded, or the same labels again (stacked mounts)
			continue
		}
		c.emitted[m.key] = gen
		c.list = append(c.list, m)
	}
	if len(c.mounts) > 2*seen+64 {
		for line, m := range c.mounts {
			if m.gen != gen {
				delete(c.mounts, line)
				delete(c.emitted, m.key)
			}
		}
	}
	c.statAll()
	for i, m := range c.list {
		call := c.calls[i]
		var err error
		switch {
		case call == nil:
			err = errStuck
		case c.wait(call, m):
			err = call.err
		default:
			err = errTimedOut
		}
		c.send(ch, m, call, err)
	}
	c.timer.Stop()
	clear(c.calls) // let finished calls be collected
	return nil
}

// send emits the series of one mount.
func (c *filesystemCollector) send(ch chan<- prometheus.Metric, m *mount, call *statfsCall, err error) {
	ro := 0.0
	if m.readonly {
		ro = 1
	}
	if err != nil {
		// Timeouts are logged by wait, and when the call returns.
		if !m.failing && err != errStuck && err != errTimedOut {
			c.e.logger.Warn("cannot stat file system; reported with node_filesystem_device_error 1",
				"collector", "filesystem", "mountpoint", m.mountPoint, "err", err)
			m.failing = true
		}
		c.deviceError.send(ch, 1, m.labels)
		c.readonly.send(ch, ro, m.labels)
		return
	}
	if m.failing {
		c.e.logger.Info("file system can be statted again", "collector", "filesystem", "mountpoint", m.mountPoint)
		m.failing = false
	}
	b := &call.buf
	bsize := float64(b.Bsize)
	c.deviceError.send(ch, 0, m.labels)
	c.readonly.send(ch, ro, m.labels)
	c.size.send(ch, float64(b.Blocks)*bsize, m.labels)
	c.free.send(ch, float64(b.Bfree)*bsize, m.labels)
	c.avail.send(ch, float64(b.Bavail)*bsize, m.labels)
	c.files.send(ch, float64(b.Files), m.labels)
	c.filesFree.send(ch, float64(b.Ffree), m.labels)
}

// statAll starts a statfs for every listed mount that is not stuck, and
// arms the shared deadline. c.calls[i] is nil for a stuck mount.
func (c *filesystemCollector) statAll() {
	c.calls = c.calls[:0]
	statfs := c.e.opts.Statfs
	for _, m := range c.list {
		c.mu.Lock()
		_, stuck := c.stuck[m.statfsPath]
		c.mu.Unlock()
		if stuck {
			c.calls = append(c.calls, nil)
			continue
		}
		call := &statfsCall{done: make(chan struct{})}
		go func(path string) {
			err := statfs(path, &call.buf)
			c.mu.Lock()
			defer c.mu.Unlock()
			call.err = err
			close(call.done)
			if c.stuck[path] == call {
				delete(c.stuck, path)
				c.e.logger.Info("hung statfs has returned; the mount point is statted again", "collector", "filesystem", "path", path)
			}
		}(m.statfsPath)
		c.calls = append(c.calls, call)
	}
	c.timer.Reset(c.e.opts.StatfsTimeout)
}

// wait waits for call until the shared deadline and reports whether it
// returned. A call still running at the deadline marks its mount stuck.
func (c *filesystemCollector) wait(call *statfsCall, m *mount) bool {
	select {
	case <-call.done:
		return true
	default:
	}
	select {
	case <-call.done:
		return true
	case <-c.timer.C:
		c.timer.Reset(0) // expired: later waits must not block either
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-call.done:
		return true
	default:
	}
	c.stuck[m.statfsPath] = call
	c.e.logger.Warn("statfs timed out; the mount point is reported with node_filesystem_device_error 1 and not statted again until the call returns",
		"collector", "filesystem", "mountpoint", m.mountPoint, "timeout", c.e.opts.StatfsTimeout)
	return false
}

// mount returns the cached mount of a mountinfo line, parsing it and
// applying the exclusion options on first sight.
func (c *filesystemCollector) mount(line []byte) (*mount, error) {
	if m, ok := c.mounts[string(line)]; ok {
		return m, nil
	}
	mi, err := parseMountinfoLine(line)
	if err != nil {
		return nil, err
	}
	m := &mount{mountinfo: mi}
	root := c.e.opts.RootPath
	m.statfsPath = filepath.Join(root, mi.mountPoint)
	if root != "/" { // a mount point seen from inside the root: strip the root
		if mi.mountPoint == root {
			m.mountPoint = "/"
			m.statfsPath = mi.mountPoint
		} else if strings.HasPrefix(mi.mountPoint, root+"/") {
			m.mountPoint = mi.mountPoint[len(root):]
			m.statfsPath = mi.mountPoint
		}
	}
	m.excluded = c.e.mountExclude != nil && c.e.mountExclude.MatchString(m.mountPoint) ||
		c.e.fsTypeExclude != nil && c.e.fsTypeExclude.MatchString(m.fsType)
	if !m.excluded {
		m.key = m.source + "\x00" + m.fsType + "\x00" + m.mountPoint
		m.labels = labelPairs("device", m.source, "fstype", m.fsType, "mountpoint", m.mountPoint)
	}
	c.mounts[string(line)] = m
	return m, nil
}
