package collector

import (
	"bytes"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// netdevFields is the number of counters per interface in /proc/net/dev.
const netdevFields = 16

// netdevNames are the metric names of /proc/net/dev's columns, in order, as
// node_exporter names them.
var netdevNames = [netdevFields]string{
	"receive_bytes_total", "receive_packets_total", "receive_errs_total", "receive_drop_total",
	"receive_fifo_total", "receive_frame_total", "receive_compressed_total", "receive_multicast_total",
	"transmit_bytes_total", "transmit_packets_total", "transmit_errs_total", "transmit_drop_total",
	"transmit_fifo_total", "transmit_colls_total", "transmit_carrier_total", "transmit_compressed_total",
}

// netdevLine is one interface of /proc/net/dev.
type netdevLine struct {
	name []byte
	v    [netdevFields]uint64
}

// parseNetdevLine parses "name: counters…"; lines without a colon (the two
// headers, blank lines) give an empty name and no error.
func parseNetdevLine(line []byte) (netdevLine, error) {
	var d netdevLine
	name, rest, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return d, nil
	}
	d.name = bytes.TrimSpace(name)
	if len(d.name) == 0 {
		return d, malformed("net/dev", "line %q", line)
	}
	for i := range d.v {
		var field []byte
		field, rest = nextField(rest)
		v, ok := parseUint(field)
		if !ok {
			return d, malformed("net/dev", "%s: column %d: %q", d.name, i+1, field)
		}
		d.v[i] = v
	}
	return d, nil
}

// netDevice is an interface seen in /proc/net/dev: its label pairs and
// whether NetworkDeviceExclude skips it, decided once.
type netDevice struct {
	labels   []*dto.LabelPair
	excluded bool
	gen      uint64
}

// netdevRow is a parsed line waiting to be sent.
type netdevRow struct {
	dev *netDevice
	v   [netdevFields]uint64
}

// netdevCollector exports node_network_{receive,transmit}_*_total from
// /proc/net/dev.
type netdevCollector struct {
	e        *env
	path     string
	families [netdevFields]family
	devices  map[string]*netDevice
	rows     []netdevRow
}

func newNetdevCollector(e *env) (collector, error) {
	c := &netdevCollector{e: e, path: e.procPath("net", "dev"), devices: map[string]*netDevice{}}
	for i, name := range netdevNames {
		c.families[i] = newFamily("node_network_"+name, "Network device statistic "+name[:len(name)-len("_total")]+".", prometheus.CounterValue, "device")
	}
	return c, nil
}

func (c *netdevCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	gen := c.e.gen
	c.rows = c.rows[:0]
	seen := 0
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		d, err := parseNetdevLine(line)
		if err != nil {
			return err
		}
		if len(d.name) == 0 {
			continue
		}
		dev := c.device(d.name)
		if dev.gen == gen { // listed twice
			continue
		}
		dev.gen = gen
		seen++
		if !dev.excluded {
			c.rows = append(c.rows, netdevRow{dev: dev, v: d.v})
		}
	}
	for i := range c.rows {
		r := &c.rows[i]
		for f, v := range r.v {
			c.families[f].send(ch, float64(v), r.dev.labels)
		}
	}
	if len(c.devices) > 2*seen+64 { // forget interfaces that went away
		for name, dev := range c.devices {
			if dev.gen != gen {
				delete(c.devices, name)
			}
		}
	}
	return nil
}

// device returns the cached state of an interface.
func (c *netdevCollector) device(name []byte) *netDevice {
	if dev, ok := c.devices[string(name)]; ok {
		return dev
	}
	n := string(name)
	dev := &netDevice{excluded: c.e.netExclude != nil && c.e.netExclude.MatchString(n)}
	if !dev.excluded {
		dev.labels = labelPairs("device", n)
	}
	c.devices[n] = dev
	return dev
}
