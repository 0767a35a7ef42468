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

// statKeys are the keys of /proc/stat that are read, with their bit of
// kernelStats.have and the metric they are exported as.
var statKeys = [...]struct {
	key        string
	have       int
	name, help string
	typ        prometheus.ValueType
}{
	{"btime", haveBootTime, "node_boot_time_seconds", "Node boot time, in unixtime.", prometheus.GaugeValue},
	{"ctxt", haveContextSwitches, "node_context_switches_total", "Total number of context switches.", prometheus.CounterValue},
	{"processes", haveForks, "node_forks_total", "Total number of forks.", prometheus.CounterValue},
	{"intr", haveInterrupts, "node_intr_total", "Total number of interrupts serviced.", prometheus.CounterValue},
	{"procs_running", haveProcsRunning, "node_procs_running", "Number of processes in runnable state.", prometheus.GaugeValue},
	{"procs_blocked", haveProcsBlocked, "node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", prometheus.GaugeValue},
}

// field returns the field whose bit of have is bit.
func (s *kernelStats) field(bit int) *uint64 {
	switch bit {
	case haveBootTime:
		return &s.bootTime
	case haveContextSwitches:
		return &s.contextSwitches
	case haveForks:
		return &s.forks
	case haveInterrupts:
		return &s.interrupts
	case haveProcsRunning:
		return &s.procsRunning
	default:
		return &s.procsBlocked
	}
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
			*s.field(k.have) = v
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
	e        *env
	families [len(statKeys)]family
}

func newStatCollector(e *env) (collector, error) {
	c := &statCollector{e: e}
	for i, k := range statKeys {
		c.families[i] = newFamily(k.name, k.help, k.typ)
	}
	return c, nil
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
	for i, k := range statKeys {
		if s.have&k.have != 0 {
			c.families[i].send(ch, float64(*s.field(k.have)), nil)
		}
	}
	return nil
}
