package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// diskstatsFields is the number of statistics read from a /proc/diskstats
// line: 11 since Linux 2.6, 15 with discards (4.18), 17 with flushes (5.5).
const diskstatsFields = 17

// diskstatsLine is one parsed line of /proc/diskstats; n statistics were
// present.
type diskstatsLine struct {
	name []byte
	n    int
	v    [diskstatsFields]uint64
}

// parseDiskstatsLine parses "major minor name stat…". Blank lines give an
// empty name and no error.
func parseDiskstatsLine(line []byte) (diskstatsLine, error) {
	var d diskstatsLine
	major, rest := nextField(line)
	if len(major) == 0 {
		return d, nil
	}
	_, rest = nextField(rest) // minor
	d.name, rest = nextField(rest)
	if len(d.name) == 0 {
		return d, malformed("diskstats", "line %q", line)
	}
	for d.n < diskstatsFields {
		var field []byte
		field, rest = nextField(rest)
		if len(field) == 0 {
			break
		}
		v, ok := parseUint(field)
		if !ok {
			return d, malformed("diskstats", "%s: %q", d.name, field)
		}
		d.v[d.n] = v
		d.n++
	}
	if d.n < 11 {
		return d, malformed("diskstats", "%s: %d fields, want at least 11", d.name, d.n)
	}
	return d, nil
}

// diskRow is a parsed line waiting to be sent.
type diskRow struct {
	dev *device[struct{}]
	n   int
	v   [diskstatsFields]uint64
}

// diskstatsCollector exports node_disk_* from /proc/diskstats.
type diskstatsCollector struct {
	e        *env
	path     string
	families [diskstatsFields]family
	scale    [diskstatsFields]float64
	devices  deviceSet[struct{}]
	rows     []diskRow
}

func newDiskstatsCollector(e *env) (collector, error) {
	c := &diskstatsCollector{e: e, path: e.procPath("diskstats"), devices: newDeviceSet[struct{}](e.diskExclude)}
	const sector, ms = 512, 0.001
	for i, d := range [diskstatsFields]struct {
		name, help string
		typ        prometheus.ValueType
		scale      float64
	}{
		{"reads_completed_total", "The total number of reads completed successfully.", prometheus.CounterValue, 1},
		{"reads_merged_total", "The total number of reads merged.", prometheus.CounterValue, 1},
		{"read_bytes_total", "The total number of bytes read successfully.", prometheus.CounterValue, sector},
		{"read_time_seconds_total", "The total number of seconds spent by all reads.", prometheus.CounterValue, ms},
		{"writes_completed_total", "The total number of writes completed successfully.", prometheus.CounterValue, 1},
		{"writes_merged_total", "The number of writes merged.", prometheus.CounterValue, 1},
		{"written_bytes_total", "The total number of bytes written successfully.", prometheus.CounterValue, sector},
		{"write_time_seconds_total", "This is the total number of seconds spent by all writes.", prometheus.CounterValue, ms},
		{"io_now", "The number of I/Os currently in progress.", prometheus.GaugeValue, 1},
		{"io_time_seconds_total", "Total seconds spent doing I/Os.", prometheus.CounterValue, ms},
		{"io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", prometheus.CounterValue, ms},
		{"discards_completed_total", "The total number of discards completed successfully.", prometheus.CounterValue, 1},
		{"discards_merged_total", "The total number of discards merged.", prometheus.CounterValue, 1},
		{"discarded_sectors_total", "The total number of sectors discarded successfully.", prometheus.CounterValue, 1},
		{"discard_time_seconds_total", "This is the total number of seconds spent by all discards.", prometheus.CounterValue, ms},
		{"flush_requests_total", "The total number of flush requests completed successfully.", prometheus.CounterValue, 1},
		{"flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", prometheus.CounterValue, ms},
	} {
		c.families[i] = newFamily("node_disk_"+d.name, d.help, d.typ, "device")
		c.scale[i] = d.scale
	}
	return c, nil
}

func (c *diskstatsCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	gen := c.e.gen
	c.rows = c.rows[:0]
	c.devices.begin()
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		d, err := parseDiskstatsLine(line)
		if err != nil {
			return err
		}
		if len(d.name) == 0 {
			continue
		}
		if dev := c.devices.visit(d.name, gen); dev != nil {
			c.rows = append(c.rows, diskRow{dev: dev, n: d.n, v: d.v})
		}
	}
	for i := range c.rows {
		r := &c.rows[i]
		for f := 0; f < r.n; f++ {
			c.families[f].send(ch, float64(r.v[f])*c.scale[f], r.dev.labels)
		}
	}
	c.devices.end(gen)
	return nil
}
