package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"
)

// Options configure the host collectors. Logger is required; every other
// field has a default.
type Options struct {
	// ProcPath is where procfs is mounted; default "/proc".
	ProcPath string
	// SysPath is where sysfs is mounted; default "/sys".
	SysPath string
	// RootPath is the host's root file system; default "/". It prefixes
	// /etc/os-release and the mount points passed to statfs, for agents
	// that run in a container with the host's root mounted elsewhere.
	RootPath string
	// AgentVersion is reported in saypro_agent_info.
	AgentVersion string
	// Disabled lists collectors to turn off, e.g. "tcpstat"; see Names.
	// An unknown name makes New fail.
	Disabled []string
	// DiskDeviceExclude is a regular expression of block devices to skip;
	// "" skips partitions and loop, RAM, zram and floppy devices.
	DiskDeviceExclude string
	// FilesystemMountPointsExclude is a regular expression of mount points
	// to skip; "" skips /dev, /proc, /sys, /run/credentials and the
	// storage of Docker and containers/storage.
	FilesystemMountPointsExclude string
	// FilesystemFSTypesExclude is a regular expression of file system types
	// to skip; "" skips pseudo file systems (proc, sysfs, cgroup, …) and
	// overlay and squashfs images, as node_exporter does.
	FilesystemFSTypesExclude string
	// NetworkDeviceExclude is a regular expression of network interfaces
	// to skip; "" skips none.
	NetworkDeviceExclude string
	// StatfsTimeout bounds each statfs call; default 5s. The calls of one
	// collection run in parallel and share this deadline, so several hung
	// mounts cost one timeout. A mount point whose call times out is
	// reported with node_filesystem_device_error 1 and is not statted again
	// until that call returns.
	StatfsTimeout time.Duration
	// Statfs is called for every mount point; nil means unix.Statfs. Tests
	// use it to simulate hung or failing mounts.
	Statfs func(path string, buf *unix.Statfs_t) error
	// Logger receives collector failures, each once until it recovers.
	Logger *slog.Logger
}

// Default values of Options.
const (
	DefaultProcPath      = "/proc"
	DefaultSysPath       = "/sys"
	DefaultRootPath      = "/"
	DefaultStatfsTimeout = 5 * time.Second
)

// errNoData marks a collector whose source does not exist on this system
// (no /proc/pressure on old kernels): it reports success 0, as node_exporter
// does, but is logged at debug level only.
var errNoData = errors.New("no data on this system")

// collector is one subsystem. update sends its metrics and returns an error
// if it could not read or parse its source; metrics are sent only once the
// source has been parsed, so a failing collector sends none.
type collector interface {
	update(ch chan<- prometheus.Metric) error
}

// factory builds one named collector.
type factory struct {
	name string
	new  func(e *env) (collector, error)
}

// factories lists every collector, sorted by name.
var factories = []factory{
	{"agent", newAgentCollector},
	{"cpu", newCPUCollector},
	{"diskstats", newDiskstatsCollector},
	{"entropy", newEntropyCollector},
	{"filefd", newFilefdCollector},
	{"filesystem", newFilesystemCollector},
	{"loadavg", newLoadavgCollector},
	{"meminfo", newMeminfoCollector},
	{"netclass", newNetclassCollector},
	{"netdev", newNetdevCollector},
	{"netstat", newNetstatCollector},
	{"os", newOSCollector},
	{"pressure", newPressureCollector},
	{"sockstat", newSockstatCollector},
	{"stat", newStatCollector},
	{"tcpstat", newTCPStatCollector},
	{"time", newTimeCollector},
	{"timex", newTimexCollector},
	{"uname", newUnameCollector},
	{"uptime", newUptimeCollector},
	{"vmstat", newVmstatCollector},
}

// Names returns the names of all collectors, sorted.
func Names() []string {
	names := make([]string, len(factories))
	for i, f := range factories {
		names[i] = f.name
	}
	return names
}

// env is what collectors share: options, paths, the scratch buffer and the
// clock and system calls that tests replace.
type env struct {
	opts   Options
	logger *slog.Logger

	// buf is the scratch buffer for reading files; collections are
	// serialized by Node.mu.
	buf reader
	// stat is /proc/stat, read at most once per collection for the cpu and
	// stat collectors.
	stat procStat
	// gen counts collections.
	gen uint64

	diskExclude, mountExclude, fsTypeExclude, netExclude *regexp.Regexp

	osRelease *osReleaseCache

	now   func() time.Time
	uname func(*unix.Utsname) error
	clock func() (clockState, error)
}

// procPath joins elements under ProcPath.
func (e *env) procPath(elem ...string) string {
	return filepath.Join(append([]string{e.opts.ProcPath}, elem...)...)
}

// sysPath joins elements under SysPath.
func (e *env) sysPath(elem ...string) string {
	return filepath.Join(append([]string{e.opts.SysPath}, elem...)...)
}

// rootPath joins elements under RootPath.
func (e *env) rootPath(elem ...string) string {
	return filepath.Join(append([]string{e.opts.RootPath}, elem...)...)
}

// Node collects host metrics with node_exporter's names, types and labels.
// It implements prometheus.Collector; collections are serialized, so one
// Node can be registered with a registry that is scraped concurrently.
type Node struct {
	env *env

	mu         sync.Mutex
	collectors []*entry

	duration family
	success  family
}

// entry is one enabled collector and its failure state.
type entry struct {
	name    string
	c       collector
	labels  []*dto.LabelPair
	logger  *slog.Logger
	failing bool
}

var _ prometheus.Collector = (*Node)(nil)

// Default exclusion patterns of Options. They select what node_exporter 1.5
// skips by default, plus zram devices, which are compressed RAM, not disks.
// The file system types are kernel interfaces, automounters, and read-only
// or layered images whose space is not the host's to run out of.
const (
	defaultDiskDeviceExclude    = `^(?:z?ram\d+|loop\d+|fd\d+|(?:h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$`
	defaultMountPointsExclude   = `^/(?:dev|proc|sys|run/credentials/.+|var/lib/docker/.+|var/lib/containers/storage/.+)(?:/|$)`
	defaultFSTypesExclude       = `^(?:proc|procfs|sysfs|cgroup2?|devtmpfs|devpts|debugfs|tracefs|securityfs|selinuxfs|pstore|bpf|configfs|fusectl|hugetlbfs|mqueue|nsfs|binfmt_misc|autofs|rpc_pipefs|overlay|squashfs|iso9660)$`
	defaultNetworkDeviceExclude = ``
)

// compileDefault compiles pattern, or def when pattern is empty; an empty
// result means no exclusion (nil).
func compileDefault(option, pattern, def string) (*regexp.Regexp, error) {
	if pattern == "" {
		pattern = def
	}
	if pattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("collector: %s: %w", option, err)
	}
	return re, nil
}

// New builds the enabled collectors and their descriptors. It fails on a nil
// Logger, an unknown name in Disabled or an invalid regular expression; a
// missing or unreadable file only fails its collector, at collection time.
func New(o Options) (*Node, error) {
	if o.Logger == nil {
		return nil, errors.New("collector: Logger is required")
	}
	if o.ProcPath == "" {
		o.ProcPath = DefaultProcPath
	}
	if o.SysPath == "" {
		o.SysPath = DefaultSysPath
	}
	if o.RootPath == "" {
		o.RootPath = DefaultRootPath
	}
	o.RootPath = filepath.Clean(o.RootPath)
	if o.StatfsTimeout <= 0 {
		o.StatfsTimeout = DefaultStatfsTimeout
	}
	if o.Statfs == nil {
		o.Statfs = unix.Statfs
	}
	disabled := map[string]bool{}
	for _, name := range o.Disabled {
		if !slices.ContainsFunc(factories, func(f factory) bool { return f.name == name }) {
			return nil, fmt.Errorf("collector: unknown collector %q in disabled (known: %s)", name, strings.Join(Names(), ", "))
		}
		disabled[name] = true
	}
	e := &env{
		opts:      o,
		logger:    o.Logger,
		osRelease: &osReleaseCache{},
		now:       time.Now,
		uname:     unix.Uname,
		clock:     readClock,
	}
	e.stat.path = e.procPath("stat")
	var err error
	if e.diskExclude, err = compileDefault("disk device exclude", o.DiskDeviceExclude, defaultDiskDeviceExclude); err != nil {
		return nil, err
	}
	if e.mountExclude, err = compileDefault("filesystem mount points exclude", o.FilesystemMountPointsExclude, defaultMountPointsExclude); err != nil {
		return nil, err
	}
	if e.fsTypeExclude, err = compileDefault("filesystem types exclude", o.FilesystemFSTypesExclude, defaultFSTypesExclude); err != nil {
		return nil, err
	}
	if e.netExclude, err = compileDefault("network device exclude", o.NetworkDeviceExclude, defaultNetworkDeviceExclude); err != nil {
		return nil, err
	}
	n := &Node{
		env: e,
		duration: newFamily("node_scrape_collector_duration_seconds",
			"node_exporter: Duration of a collector scrape.", prometheus.GaugeValue, "collector"),
		success: newFamily("node_scrape_collector_success",
			"node_exporter: Whether a collector succeeded.", prometheus.GaugeValue, "collector"),
	}
	for _, f := range factories {
		if disabled[f.name] {
			continue
		}
		c, err := f.new(e)
		if err != nil {
			return nil, fmt.Errorf("collector: %s: %w", f.name, err)
		}
		n.collectors = append(n.collectors, &entry{
			name:   f.name,
			c:      c,
			labels: labelPairs("collector", f.name),
			logger: o.Logger.With("collector", f.name),
		})
	}
	return n, nil
}

// Describe sends the descriptors of the scrape metrics only, as
// node_exporter does: the set of host metrics depends on the host.
func (n *Node) Describe(ch chan<- *prometheus.Desc) {
	ch <- n.duration.desc
	ch <- n.success.desc
}

// Collect runs every enabled collector in turn. A failing collector reports
// node_scrape_collector_success 0 and is logged once, until it has
// recovered; the others go on.
func (n *Node) Collect(ch chan<- prometheus.Metric) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.env.gen++
	for _, e := range n.collectors {
		start := time.Now()
		err := run(e.c, ch)
		n.duration.send(ch, time.Since(start).Seconds(), e.labels)
		ok := 1.0
		switch {
		case err != nil:
			ok = 0
			if !e.failing {
				if errors.Is(err, errNoData) {
					e.logger.Debug("collector has no data on this host", "err", err)
				} else {
					e.logger.Warn("collector failed; logged again only after it recovers", "err", err)
				}
			}
			e.failing = true
		case e.failing:
			e.logger.Info("collector recovered")
			e.failing = false
		}
		n.success.send(ch, ok, e.labels)
	}
}

// run calls c.update and turns a panic into an error, so that one collector
// on odd input cannot take the agent down.
func run(c collector, ch chan<- prometheus.Metric) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return c.update(ch)
}
