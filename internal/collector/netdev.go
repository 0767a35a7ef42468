package collector

import (
	"bytes"

	"github.com/prometheus/client_golang/prometheus"
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

// netdevRow is a parsed line waiting to be sent.
type netdevRow struct {
	dev *device[struct{}]
	v   [netdevFields]uint64
}

// netdevCollector exports node_network_{receive,transmit}_*_total from
// /proc/net/dev.
type netdevCollector struct {
	e        *env
	path     string
	families [netdevFields]family
	devices  deviceSet[struct{}]
	rows     []netdevRow
}

func newNetdevCollector(e *env) (collector, error) {
	c := &netdevCollector{e: e, path: e.procPath("net", "dev"), devices: newDeviceSet[struct{}](e.netExclude)}
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
	c.devices.begin()
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
		if dev := c.devices.visit(d.name, gen); dev != nil {
			c.rows = append(c.rows, netdevRow{dev: dev, v: d.v})
		}
	}
	for i := range c.rows {
		r := &c.rows[i]
		for f, v := range r.v {
			c.families[f].send(ch, float64(v), r.dev.labels)
		}
	}
	c.devices.end(gen)
	return nil
}
