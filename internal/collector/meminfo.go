package collector

import (
	"bytes"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// parseMeminfo calls fn for every line of /proc/meminfo with the field name,
// its value and whether the value is in kB.
func parseMeminfo(data []byte, fn func(key []byte, v uint64, kB bool)) error {
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		key, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(key) == 0 {
			return malformed("meminfo", "line %q", line)
		}
		field, rest := nextField(rest)
		v, ok := parseUint(field)
		if !ok {
			return malformed("meminfo", "%s: %q", key, field)
		}
		unit, _ := nextField(rest)
		switch string(unit) {
		case "":
			fn(key, v, false)
		case "kB":
			fn(key, v, true)
		default:
			return malformed("meminfo", "%s: unit %q", key, unit)
		}
	}
	return nil
}

// meminfoMetricName turns a /proc/meminfo field into node_exporter's metric
// name: "Active(anon)" becomes node_memory_Active_anon_bytes, and fields
// without a unit (HugePages_Total) get no _bytes suffix.
func meminfoMetricName(key string, kB bool) string {
	key = strings.ReplaceAll(key, ")", "")
	key = strings.ReplaceAll(key, "(", "_")
	if kB {
		return "node_memory_" + key + "_bytes"
	}
	return "node_memory_" + key
}

// meminfoCollector exports every field of /proc/meminfo as a gauge.
type meminfoCollector struct {
	e        *env
	path     string
	families dynamicFamilies
	pending  []pending
}

func newMeminfoCollector(e *env) (collector, error) {
	return &meminfoCollector{e: e, path: e.procPath("meminfo")}, nil
}

func (c *meminfoCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	c.families.next()
	c.pending = c.pending[:0]
	err = parseMeminfo(data, func(key []byte, v uint64, kB bool) {
		f := c.families.get(key, func(key string) (family, bool) {
			name := meminfoMetricName(key, kB)
			if !validMetricName(name) {
				return family{}, false
			}
			return newFamily(name, "Field "+key+" of /proc/meminfo.", prometheus.GaugeValue), true
		})
		if f == nil {
			return
		}
		x := float64(v)
		if kB {
			x *= 1024
		}
		c.pending = append(c.pending, pending{f, x})
	})
	if err != nil {
		return err
	}
	if len(c.pending) == 0 {
		return malformed("meminfo", "empty")
	}
	for _, p := range c.pending {
		p.f.send(ch, p.v, nil)
	}
	return nil
}
