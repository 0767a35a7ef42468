package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// parseLoadavg returns the 1, 5 and 15 minute load averages of
// /proc/loadavg ("0.49 0.28 0.47 2/213 4711").
func parseLoadavg(data []byte) ([3]float64, error) {
	var loads [3]float64
	rest := data
	for i := range loads {
		var field []byte
		field, rest = nextField(rest)
		v, err := strconv.ParseFloat(string(field), 64)
		if err != nil {
			return loads, malformed("loadavg", "%q", data)
		}
		loads[i] = v
	}
	return loads, nil
}

// loadavgCollector exports node_load1, node_load5 and node_load15.
type loadavgCollector struct {
	e     *env
	path  string
	loads [3]family
}

func newLoadavgCollector(e *env) (collector, error) {
	return &loadavgCollector{
		e:    e,
		path: e.procPath("loadavg"),
		loads: [3]family{
			newFamily("node_load1", "1m load average.", prometheus.GaugeValue),
			newFamily("node_load5", "5m load average.", prometheus.GaugeValue),
			newFamily("node_load15", "15m load average.", prometheus.GaugeValue),
		},
	}, nil
}

func (c *loadavgCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	loads, err := parseLoadavg(data)
	if err != nil {
		return err
	}
	for i, f := range c.loads {
		f.send(ch, loads[i], nil)
	}
	return nil
}
