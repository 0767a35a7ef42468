package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// parseFileNr parses /proc/sys/fs/file-nr: allocated, unused (always 0
// since Linux 2.6) and maximum file handles.
func parseFileNr(data []byte) (allocated, maximum uint64, err error) {
	a, rest := nextField(data)
	_, rest = nextField(rest)
	m, _ := nextField(rest)
	if n := len(m); n > 0 && m[n-1] == '\n' {
		m = m[:n-1]
	}
	var ok1, ok2 bool
	allocated, ok1 = parseUint(a)
	maximum, ok2 = parseUint(m)
	if !ok1 || !ok2 {
		return 0, 0, malformed("file-nr", "%q", data)
	}
	return allocated, maximum, nil
}

// filefdCollector exports node_filefd_allocated and node_filefd_maximum.
type filefdCollector struct {
	e                  *env
	path               string
	allocated, maximum family
}

func newFilefdCollector(e *env) (collector, error) {
	return &filefdCollector{
		e:         e,
		path:      e.procPath("sys", "fs", "file-nr"),
		allocated: newFamily("node_filefd_allocated", "File descriptor statistics: allocated.", prometheus.GaugeValue),
		maximum:   newFamily("node_filefd_maximum", "File descriptor statistics: maximum.", prometheus.GaugeValue),
	}, nil
}

func (c *filefdCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.path)
	if err != nil {
		return err
	}
	allocated, maximum, err := parseFileNr(data)
	if err != nil {
		return err
	}
	c.allocated.send(ch, float64(allocated), nil)
	c.maximum.send(ch, float64(maximum), nil)
	return nil
}
