package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// userHZ is the unit of the times in /proc/stat: USER_HZ is 100 on every
// Linux architecture that node_exporter and procfs support.
const userHZ = 100

// maxCPU bounds the CPU numbers accepted from /proc/stat, so that odd input
// cannot make the collector allocate without limit.
const maxCPU = 1 << 16

// cpuModes are the modes of node_cpu_seconds_total, in /proc/stat's order.
var cpuModes = [...]string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}

// cpuFields is the number of times on a cpuN line: the modes, then guest and
// guest_nice.
const cpuFields = len(cpuModes) + 2

// cpuTimes is one cpuN line of /proc/stat, in seconds. n is how many fields
// the kernel gave (older kernels give fewer).
type cpuTimes struct {
	cpu int
	n   int
	t   [cpuFields]float64
}

// parseCPUTimes appends the per-CPU lines of /proc/stat to out.
func parseCPUTimes(data []byte, out []cpuTimes) ([]cpuTimes, error) {
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(line) < 4 || line[0] != 'c' || line[1] != 'p' || line[2] != 'u' || line[3] < '0' || line[3] > '9' {
			continue
		}
		name, rest := nextField(line)
		cpu, ok := parseUint(name[3:])
		if !ok || cpu >= maxCPU {
			return out, malformed("stat", "cpu line %q", name)
		}
		ct := cpuTimes{cpu: int(cpu)}
		for ct.n < cpuFields {
			var field []byte
			field, rest = nextField(rest)
			if len(field) == 0 {
				break
			}
			v, ok := parseUint(field)
			if !ok {
				return out, malformed("stat", "%s: %q", name, field)
			}
			ct.t[ct.n] = float64(v) / userHZ
			ct.n++
		}
		if ct.n < 4 { // user nice system idle exist since Linux 1.x
			return out, malformed("stat", "%s: %d fields", name, ct.n)
		}
		out = append(out, ct)
	}
	if len(out) == 0 {
		return out, malformed("stat", "no per-CPU lines")
	}
	return out, nil
}

// cpuSeries holds one CPU's label pairs and the last value sent for each
// field, so that a counter the kernel moves backwards (iowait and idle do on
// some kernels) is not exported as a counter reset.
type cpuSeries struct {
	labels [len(cpuModes)][]*dto.LabelPair
	last   [cpuFields]float64
}

// cpuCollector exports node_cpu_seconds_total and
// node_cpu_guest_seconds_total from /proc/stat.
type cpuCollector struct {
	e       *env
	seconds family
	guest   family
	series  []*cpuSeries // by CPU number
	times   []cpuTimes
}

func newCPUCollector(e *env) (collector, error) {
	return &cpuCollector{
		e:       e,
		seconds: newFamily("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", prometheus.CounterValue, "cpu", "mode"),
		guest:   newFamily("node_cpu_guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.", prometheus.CounterValue, "cpu", "mode"),
	}, nil
}

func (c *cpuCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.stat.read(c.e.gen)
	if err != nil {
		return err
	}
	c.times, err = parseCPUTimes(data, c.times[:0])
	if err != nil {
		return err
	}
	for i := range c.times {
		ct := &c.times[i]
		s := c.seriesFor(ct.cpu)
		for f := 0; f < ct.n; f++ {
			if ct.t[f] < s.last[f] {
				ct.t[f] = s.last[f]
			}
			s.last[f] = ct.t[f]
		}
		for m := 0; m < len(cpuModes) && m < ct.n; m++ {
			c.seconds.send(ch, ct.t[m], s.labels[m])
		}
		if ct.n > len(cpuModes) { // guest: labelled user, guest_nice: nice
			c.guest.send(ch, ct.t[len(cpuModes)], s.labels[0])
		}
		if ct.n > len(cpuModes)+1 {
			c.guest.send(ch, ct.t[len(cpuModes)+1], s.labels[1])
		}
	}
	return nil
}

// seriesFor returns the series of CPU cpu, building them on first sight.
func (c *cpuCollector) seriesFor(cpu int) *cpuSeries {
	if cpu >= len(c.series) {
		c.series = append(c.series, make([]*cpuSeries, cpu+1-len(c.series))...)
	}
	s := c.series[cpu]
	if s == nil {
		s = &cpuSeries{}
		id := strconv.Itoa(cpu)
		for m, mode := range cpuModes {
			s.labels[m] = labelPairs("cpu", id, "mode", mode)
		}
		c.series[cpu] = s
	}
	return s
}
