package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// loadavgCollector exports node_load1, node_load5 and node_load15 from
// /proc/loadavg, parsed by procfs.
type loadavgCollector struct {
	e                    *env
	load1, load5, load15 family
}

func newLoadavgCollector(e *env) (collector, error) {
	return &loadavgCollector{
		e:      e,
		load1:  newFamily("node_load1", "1m load average.", prometheus.GaugeValue),
		load5:  newFamily("node_load5", "5m load average.", prometheus.GaugeValue),
		load15: newFamily("node_load15", "15m load average.", prometheus.GaugeValue),
	}, nil
}

func (c *loadavgCollector) update(ch chan<- prometheus.Metric) error {
	fs, err := c.e.procfs()
	if err != nil {
		return err
	}
	l, err := fs.LoadAvg()
	if err != nil {
		return err
	}
	c.load1.send(ch, l.Load1, nil)
	c.load5.send(ch, l.Load5, nil)
	c.load15.send(ch, l.Load15, nil)
	return nil
}
