package collector

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"
)

// unameCollector exports node_uname_info from uname(2). The label pairs are
// rebuilt only when the answer changes (a new host name).
type unameCollector struct {
	e      *env
	info   family
	cur    unix.Utsname // a field, as the uname seam would move a local to the heap
	last   unix.Utsname
	labels []*dto.LabelPair
}

// utsnameFields returns uname's sysname, release, version, machine,
// nodename and domainname.
func utsnameFields(u *unix.Utsname) [6]string {
	return [6]string{
		unix.ByteSliceToString(u.Sysname[:]),
		unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Version[:]),
		unix.ByteSliceToString(u.Machine[:]),
		unix.ByteSliceToString(u.Nodename[:]),
		domainname(u),
	}
}

func newUnameCollector(e *env) (collector, error) {
	return &unameCollector{
		e:    e,
		info: newFamily("node_uname_info", "Labeled system information as provided by the uname system call.", prometheus.GaugeValue, "sysname", "release", "version", "machine", "nodename", "domainname"),
	}, nil
}

func (c *unameCollector) update(ch chan<- prometheus.Metric) error {
	u := &c.cur
	if err := c.e.uname(u); err != nil {
		return err
	}
	if c.labels == nil || *u != c.last {
		c.last = *u
		f := utsnameFields(u)
		c.labels = labelPairs("sysname", f[0], "release", f[1], "version", f[2], "machine", f[3], "nodename", f[4], "domainname", f[5])
	}
	c.info.send(ch, 1, c.labels)
	return nil
}
