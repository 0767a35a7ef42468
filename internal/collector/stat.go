package collector

import (
	"bytes"

	"github.com/prometheus/client_golang/prometheus"
)

// procStat is /proc/stat, read at most once per collection: the cpu and stat
// collectors both need it, and on a large machine it is the most expensive
// file the kernel generates for us.
type procStat struct {
	path string
	r    reader
	gen  uint64
	data []byte
	err  error
}

// read returns the content of /proc/stat for collection gen.
func (p *procStat) read(gen uint64) ([]byte, error) {
	if p.gen != gen {
		p.data, p.err = p.r.read(p.path)
		p.gen = gen
	}
	return p.data, p.err
}

// Fields of kernelStats, as bits of kernelStats.have.
const (
	haveBootTime = 1 << iota
	haveContextSwitches
	haveForks
	haveInterrupts
	haveProcsRunning
	haveProcsBlocked
)

// kernelStats are the system-wide counters of /proc/stat.
type kernelStats struct {
	have            int
	bootTime        uint64
	contextSwitches uint64
	forks           uint64
	interrupts      uint64
	procsRunning    uint64
	procsBlocked    uint64
}

// statKeys maps the keys of /proc/stat to the fields of kernelStats.
var statKeys = []struct {
	key  string
	have int
}{
	{"btime", haveBootTime},
	{"ctxt", haveContextSwitches},
	{"processes", haveForks},
	{"intr", haveInterrupts},
	{"procs_running", haveProcsRunning},
	{"procs_blocked", haveProcsBlocked},
}

// parseKernelStats reads the system-wide lines of /proc/stat. Only the
// first number of the intr line (the total) is read.
func parseKernelStats(data []byte) (kernelStats, error) {
	var s kernelStats
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(line) == 0 || line[0] == 'c' && bytes.HasPrefix(line, []byte("cpu")) {
			continue
		}
		key, rest := nextField(line)
		for _, k := range statKeys {
			if string(key) != k.key {
				continue
			}
			field, _ := nextField(rest)
			v, ok := parseUint(field)
			if !ok {
				return s, malformed("stat", "%s: %q", k.key, field)
			}
			s.have |= k.have
			switch k.have {
			case haveBootTime:
				s.bootTime = v
			case haveContextSwitches:
				s.contextSwitches = v
			case haveForks:
				s.forks = v
			case haveInterrupts:
				s.interrupts = v
			case haveProcsRunning:
				s.procsRunning = v
			case haveProcsBlocked:
				s.procsBlocked = v
			}
			break
		}
	}
	if s.have&(haveBootTime|haveContextSwitches) == 0 {
		return s, malformed("stat", "no btime or ctxt line")
	}
	return s, nil
}

// statCollector exports the system-wide counters of /proc/stat.
type statCollector struct {
	e                                                              *env
	bootTime, contextSwitches, forks, interrupts, running, blocked family
}

func newStatCollector(e *env) (collector, error) {
	return &statCollector{
		e:               e,
		bootTime:        newFamily("node_boot_time_seconds", "Node boot time, in unixtime.", prometheus.GaugeValue),
		contextSwitches: newFamily("node_context_switches_total", "Total number of context switches.", prometheus.CounterValue),
		forks:           newFamily("node_forks_total", "Total number of forks.", prometheus.CounterValue),
		interrupts:      newFamily("node_intr_total", "Total number of interrupts serviced.", prometheus.CounterValue),
		running:         newFamily("node_procs_running", "Number of processes in runnable state.", prometheus.GaugeValue),
		blocked:         newFamily("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", prometheus.GaugeValue),
	}, nil
}

func (c *statCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.stat.read(c.e.gen)
	if err != nil {
		return err
	}
	s, err := parseKernelStats(data)
	if err != nil {
		return err
	}
	for _, x := range []struct {
		have int
		f    family
		v    uint64
	}{
		{haveBootTime, c.bootTime, s.bootTime},
		{haveContextSwitches, c.contextSwitches, s.contextSwitches},
		{haveForks, c.forks, s.forks},
		{haveInterrupts, c.interrupts, s.interrupts},
		{haveProcsRunning, c.running, s.procsRunning},
		{haveProcsBlocked, c.blocked, s.procsBlocked},
	} {
		if s.have&x.have != 0 {
			x.f.send(ch, float64(x.v), nil)
		}
	}
	return nil
}
