package collector

import (
	"errors"
	"io/fs"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// sockstatCollector exports node_sockstat_* from /proc/net/sockstat and
// /proc/net/sockstat6, parsed by procfs: sockets_used, and per protocol
// <PROTO>_inuse, _orphan, _tw, _alloc, _mem (pages), _mem_bytes and
// _memory, as node_exporter names them. A missing sockstat6 (IPv6 disabled)
// is not an error.
type sockstatCollector struct {
	e        *env
	pageSize float64
	families dynamicFamilies
	key      []byte
}

func newSockstatCollector(e *env) (collector, error) {
	return &sockstatCollector{e: e, pageSize: float64(os.Getpagesize())}, nil
}

func (c *sockstatCollector) update(ch chan<- prometheus.Metric) error {
	pfs, err := c.e.procfs()
	if err != nil {
		return err
	}
	v4, err := pfs.NetSockstat()
	if err != nil {
		return err
	}
	v6, err := pfs.NetSockstat6()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	c.families.next()
	if v4.Used != nil {
		c.send(ch, "sockets", "used", float64(*v4.Used))
	}
	for _, s := range []*procfs.NetSockstat{v4, v6} {
		if s == nil {
			continue
		}
		for _, p := range s.Protocols {
			c.send(ch, p.Protocol, "inuse", float64(p.InUse))
			for _, f := range []struct {
				name string
				v    *int
			}{{"orphan", p.Orphan}, {"tw", p.TW}, {"alloc", p.Alloc}, {"mem", p.Mem}, {"memory", p.Memory}} {
				if f.v == nil {
					continue
				}
				c.send(ch, p.Protocol, f.name, float64(*f.v))
				if f.name == "mem" {
					c.send(ch, p.Protocol, "mem_bytes", float64(*f.v)*c.pageSize)
				}
			}
		}
	}
	return nil
}

// send emits node_sockstat_<proto>_<field>.
func (c *sockstatCollector) send(ch chan<- prometheus.Metric, proto, field string, v float64) {
	c.key = append(append(append(c.key[:0], proto...), '_'), field...)
	f := c.families.get(c.key, func(key string) (family, bool) {
		name := "node_sockstat_" + key
		if !validMetricName(name) {
			return family{}, false
		}
		return newFamily(name, "Number of "+key+" from /proc/net/sockstat{,6}.", prometheus.GaugeValue), true
	})
	if f != nil {
		f.send(ch, v, nil)
	}
}
