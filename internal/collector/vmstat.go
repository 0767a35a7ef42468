package collector

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// vmstatField reports whether a /proc/vmstat field is exported: the same set
// as node_exporter's default (oom_kill, pgpg*, pswp*, page faults).
func vmstatField(name string) bool {
	switch {
	case strings.HasPrefix(name, "oom_kill"), strings.HasPrefix(name, "pgpg"), strings.HasPrefix(name, "pswp"):
		return true
	case strings.HasPrefix(name, "pg"):
		return strings.Contains(name[2:], "fault")
	}
	return false
}

// parseVmstat calls fn for every "name value" line of /proc/vmstat.
func parseVmstat(data []byte, fn func(name []byte, v float64)) error {
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		name, rest := nextField(line)
		if len(name) == 0 {
			continue
		}
		field, _ := nextField(rest)
		v, ok := parseNumber(field)
		if !ok {
			return malformed("vmstat", "%s: %q", name, field)
		}
		fn(name, v)
	}
	return nil
}

// vmstatCollector exports node_vmstat_<field> (untyped, as node_exporter
// does) for the fields vmstatField selects.
type vmstatCollector struct {
	e        *env
	path     string
	families dynamicFamilies
	pending  []pending
}

func newVmstatCollector(e *env) (collector, error) {
	return &vmstatCollector{e: e, path: e.procPath("vmstat")}, nil
}

func (c *vmstatCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	c.families.next()
	c.pending = c.pending[:0]
	err = parseVmstat(data, func(name []byte, v float64) {
		f := c.families.get(name, func(key string) (family, bool) {
			if !vmstatField(key) || !validMetricName(key) {
				return family{}, false
			}
			return newFamily("node_vmstat_"+key, "Field "+key+" of /proc/vmstat.", prometheus.UntypedValue), true
		})
		if f != nil {
			c.pending = append(c.pending, pending{f, v})
		}
	})
	if err != nil {
		return err
	}
	for _, p := range c.pending {
		p.f.send(ch, p.v, nil)
	}
	return nil
}
