package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// parseUptime returns the first number of /proc/uptime: seconds since boot.
func parseUptime(data []byte) (float64, error) {
	field, _ := nextField(data)
	if n := len(field); n > 0 && field[n-1] == '\n' {
		field = field[:n-1]
	}
	v, err := strconv.ParseFloat(string(field), 64)
	if err != nil || v < 0 {
		return 0, malformed("uptime", "%q", data)
	}
	return v, nil
}

// uptimeCollector exports saypro_node_uptime_seconds from /proc/uptime;
// node_exporter has no uptime metric (dashboards subtract
// node_boot_time_seconds from time()).
type uptimeCollector struct {
	e      *env
	path   string
	uptime family
}

func newUptimeCollector(e *env) (collector, error) {
	return &uptimeCollector{
		e:      e,
		path:   e.procPath("uptime"),
		uptime: newFamily("saypro_node_uptime_seconds", "Seconds since the host booted, from /proc/uptime.", prometheus.GaugeValue),
	}, nil
}

func (c *uptimeCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	v, err := parseUptime(data)
	if err != nil {
		return err
	}
	c.uptime.send(ch, v, nil)
	return nil
}
