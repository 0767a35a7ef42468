package collector

import (
	"bytes"
	"errors"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"
)

// netclassAttr is one numeric file of /sys/class/net/<iface>/ and the
// node_network_* metric node_exporter 1.5 gives it.
type netclassAttr struct {
	file, metric string
	typ          prometheus.ValueType
	scale        float64
}

// netclassAttrs are the numeric files read for every interface.
var netclassAttrs = [...]netclassAttr{
	{"addr_assign_type", "address_assign_type", prometheus.GaugeValue, 1},
	{"carrier", "carrier", prometheus.GaugeValue, 1},
	{"carrier_changes", "carrier_changes_total", prometheus.CounterValue, 1},
	{"carrier_up_count", "carrier_up_changes_total", prometheus.CounterValue, 1},
	{"carrier_down_count", "carrier_down_changes_total", prometheus.CounterValue, 1},
	{"dev_id", "device_id", prometheus.GaugeValue, 1},
	{"dormant", "dormant", prometheus.GaugeValue, 1},
	{"flags", "flags", prometheus.GaugeValue, 1},
	{"ifindex", "iface_id", prometheus.GaugeValue, 1},
	{"iflink", "iface_link", prometheus.GaugeValue, 1},
	{"link_mode", "iface_link_mode", prometheus.GaugeValue, 1},
	{"mtu", "mtu_bytes", prometheus.GaugeValue, 1},
	{"name_assign_type", "name_assign_type", prometheus.GaugeValue, 1},
	{"netdev_group", "net_dev_group", prometheus.GaugeValue, 1},
	// Mb/s to bytes/s. A link without a speed (virtual, or -1 when the
	// driver does not know) reads -1, which node_exporter 1.5 exports as
	// -125000 by default; a down link fails the read and has no sample.
	{"speed", "speed_bytes", prometheus.GaugeValue, 125000},
	{"tx_queue_len", "transmit_queue_length", prometheus.GaugeValue, 1},
	{"type", "protocol_type", prometheus.GaugeValue, 1},
}

// netclassInfoFiles are the text files of node_network_info, in the order
// of its labels after device. operstate is last, and read first: see
// readIface.
var netclassInfoFiles = [...]string{"address", "broadcast", "duplex", "ifalias", "operstate"}

// netclassOperstate indexes operstate in netclassInfoFiles.
const netclassOperstate = len(netclassInfoFiles) - 1

// netclassIface is what the collector keeps about an interface: its
// directory, and its info label pairs with the values they were built from.
type netclassIface struct {
	dir        string
	info       [len(netclassInfoFiles)]string
	infoLabels []*dto.LabelPair
}

// netclassSample is a value waiting to be sent once every interface has
// been read.
type netclassSample struct {
	f      *family
	v      float64
	labels []*dto.LabelPair
}

// netclassCollector exports node_network_up, node_network_info and the
// numeric link properties of /sys/class/net/<iface>/, as node_exporter's
// netclass collector does. A file the kernel refuses to read (speed,
// carrier or duplex of a down link give EINVAL) or that is absent is
// skipped, as node_exporter does: its sample is missing and its info label
// is empty. Other read errors and values that do not parse fail the
// collector.
type netclassCollector struct {
	e        *env
	dir      string
	families [len(netclassAttrs)]family
	up, info family
	ifaces   deviceSet[netclassIface]

	// read reads the file name of the directory dirfd (dir); tests
	// replace it to simulate sysfs errors.
	read    func(dirfd int, dir, name string) ([]byte, error)
	dirBuf  []byte
	names   []byte
	samples []netclassSample
}

func newNetclassCollector(e *env) (collector, error) {
	c := &netclassCollector{
		e:      e,
		dir:    e.sysPath("class", "net"),
		ifaces: newDeviceSet[netclassIface](e.netExclude),
		read:   e.buf.readSysfsAt,
		up: newFamily("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.",
			prometheus.GaugeValue, "device"),
		info: newFamily("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
			prometheus.GaugeValue, "device", "address", "broadcast", "duplex", "ifalias", "operstate"),
	}
	for i, a := range netclassAttrs {
		c.families[i] = newFamily("node_network_"+a.metric, "Network device property: "+a.metric, a.typ, "device")
	}
	return c, nil
}

// netclassMissing reports whether a read error means the file has no value
// now rather than a failure: absent (or the interface went away), refused
// by the driver for the link's state, or not readable by us.
func netclassMissing(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EINVAL) ||
		errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EACCES) ||
		errors.Is(err, unix.EPERM)
}

func (c *netclassCollector) update(ch chan<- prometheus.Metric) error {
	var err error
	c.names, err = listDir(c.dir, &c.dirBuf, c.names[:0])
	if err != nil {
		return err
	}
	gen := c.e.gen
	c.samples = c.samples[:0]
	c.ifaces.begin()
	for names := c.names; len(names) > 0; {
		var name []byte
		name, names, _ = bytes.Cut(names, []byte{0})
		if dev := c.ifaces.visit(name, gen); dev != nil {
			if err := c.readIface(dev, name); err != nil {
				return err
			}
		}
	}
	for i := range c.samples {
		s := &c.samples[i]
		s.f.send(ch, s.v, s.labels)
	}
	c.ifaces.end(gen)
	return nil
}

// readIface reads one interface's files into c.samples, relative to its
// directory, so that the kernel resolves the interface's path (a symbolic
// link into /sys/devices) once rather than for every file. An interface
// whose directory or operstate is missing (it went away since the directory
// was listed, or is not an interface) is skipped.
func (c *netclassCollector) readIface(dev *device[netclassIface], name []byte) error {
	iface := &dev.x
	if iface.dir == "" {
		iface.dir = filepath.Join(c.dir, string(name))
	}
	dirfd, err := openFile(iface.dir)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil
		}
		return err
	}
	defer unix.Close(dirfd)
	changed := false
	for i := len(netclassInfoFiles) - 1; i >= 0; i-- { // operstate first
		data, err := c.read(dirfd, iface.dir, netclassInfoFiles[i])
		switch {
		case err == nil:
			data = bytes.TrimSpace(data)
		case i == netclassOperstate && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)):
			return nil
		case netclassMissing(err):
			data = nil
		default:
			return err
		}
		if string(data) != iface.info[i] {
			iface.info[i] = string(data)
			changed = true
		}
	}
	if changed || iface.infoLabels == nil {
		iface.infoLabels = labelPairs("device", dev.labels[0].GetValue(),
			"address", iface.info[0], "broadcast", iface.info[1], "duplex", iface.info[2],
			"ifalias", iface.info[3], "operstate", iface.info[4])
	}
	up := 0.0
	if iface.info[netclassOperstate] == "up" {
		up = 1
	}
	c.samples = append(c.samples,
		netclassSample{&c.up, up, dev.labels},
		netclassSample{&c.info, 1, iface.infoLabels})
	for i, a := range netclassAttrs {
		data, err := c.read(dirfd, iface.dir, a.file)
		if err != nil {
			if netclassMissing(err) {
				continue
			}
			return err
		}
		v, ok := parseSysInt(bytes.TrimSpace(data))
		if !ok {
			return malformed(filepath.Join(iface.dir, a.file), "%q", data)
		}
		c.samples = append(c.samples, netclassSample{&c.families[i], float64(v) * netclassAttrs[i].scale, dev.labels})
	}
	return nil
}

// parseSysInt parses a sysfs integer: decimal, possibly negative, or
// hexadecimal with a 0x prefix (flags, dev_id).
func parseSysInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	var n uint64
	var ok bool
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		n, ok = parseHex(b[2:])
	} else {
		n, ok = parseUint(b)
	}
	if !ok || n > 1<<63 || !neg && n == 1<<63 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
