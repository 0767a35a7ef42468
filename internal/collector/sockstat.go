package collector

import (
	"bytes"
	"errors"
	"io/fs"
	"os"

	"github.com/prometheus/client_golang/prometheus"
)

// parseSockstat calls fn for every "key value" pair of a sockstat file
// ("TCP: inuse 13 orphan 0 tw 2 alloc 16 mem 0"), with the protocol.
func parseSockstat(file string, data []byte, fn func(proto, key []byte, v uint64)) error {
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		proto, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(proto) == 0 {
			return malformed(file, "line %q", line)
		}
		for {
			var key, field []byte
			key, rest = nextField(rest)
			if len(key) == 0 {
				break
			}
			field, rest = nextField(rest)
			v, ok := parseUint(field)
			if !ok {
				return malformed(file, "%s %s: %q", proto, key, field)
			}
			fn(proto, key, v)
		}
	}
	return nil
}

// sockstatField reports whether a sockstat field is exported, as
// node_exporter does: sockets used, and per protocol the sockets in use,
// orphaned, in TIME_WAIT and allocated, and the memory used.
func sockstatField(proto, key string) bool {
	if proto == "sockets" {
		return key == "used"
	}
	switch key {
	case "inuse", "orphan", "tw", "alloc", "mem", "memory":
		return true
	}
	return false
}

// sockstatCollector exports node_sockstat_* from /proc/net/sockstat and
// sockstat6: sockets_used, and per protocol <PROTO>_inuse, _orphan, _tw,
// _alloc, _mem (pages), _mem_bytes and _memory, as node_exporter names
// them. A missing sockstat6 (IPv6 disabled) is not an error.
type sockstatCollector struct {
	e        *env
	paths    [2]string
	pageSize float64
	families dynamicFamilies
	key      []byte
	pending  []pending
}

func newSockstatCollector(e *env) (collector, error) {
	return &sockstatCollector{
		e:        e,
		paths:    [2]string{e.procPath("net", "sockstat"), e.procPath("net", "sockstat6")},
		pageSize: float64(os.Getpagesize()),
	}, nil
}

func (c *sockstatCollector) update(ch chan<- prometheus.Metric) error {
	c.families.next()
	c.pending = c.pending[:0]
	for i, path := range c.paths {
		data, err := c.e.buf.read(path)
		if i == 1 && errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		err = parseSockstat(path, data, func(proto, key []byte, v uint64) {
			c.add(proto, key, "", float64(v))
			if string(key) == "mem" {
				c.add(proto, key, "_bytes", float64(v)*c.pageSize)
			}
		})
		if err != nil {
			return err
		}
	}
	for _, p := range c.pending {
		p.f.send(ch, p.v, nil)
	}
	return nil
}

// add queues node_sockstat_<proto>_<key><suffix>.
func (c *sockstatCollector) add(proto, key []byte, suffix string, v float64) {
	c.key = append(append(append(append(c.key[:0], proto...), '_'), key...), suffix...)
	f := c.families.get(c.key, func(name string) (family, bool) {
		if !sockstatField(string(proto), string(key)) || !validMetricName(name) {
			return family{}, false
		}
		return newFamily("node_sockstat_"+name, "Sockstat "+name+".", prometheus.GaugeValue), true
	})
	if f != nil {
		c.pending = append(c.pending, pending{f, v})
	}
}
