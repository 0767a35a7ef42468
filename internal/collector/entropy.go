package collector

import (
	"bytes"

	"github.com/prometheus/client_golang/prometheus"
)

// parseSingleUint parses a file holding one unsigned integer.
func parseSingleUint(file string, data []byte) (uint64, error) {
	v, ok := parseUint(bytes.TrimSpace(data))
	if !ok {
		return 0, malformed(file, "%q", data)
	}
	return v, nil
}

// entropyCollector exports node_entropy_available_bits and
// node_entropy_pool_size_bits from /proc/sys/kernel/random.
type entropyCollector struct {
	e                   *env
	availPath, poolPath string
	avail, pool         family
}

func newEntropyCollector(e *env) (collector, error) {
	return &entropyCollector{
		e:         e,
		availPath: e.procPath("sys", "kernel", "random", "entropy_avail"),
		poolPath:  e.procPath("sys", "kernel", "random", "poolsize"),
		avail:     newFamily("node_entropy_available_bits", "Bits of available entropy.", prometheus.GaugeValue),
		pool:      newFamily("node_entropy_pool_size_bits", "Bits of entropy pool.", prometheus.GaugeValue),
	}, nil
}

func (c *entropyCollector) update(ch chan<- prometheus.Metric) error {
	data, err := c.e.buf.read(c.availPath)
	if err != nil {
		return err
	}
	avail, err := parseSingleUint("entropy_avail", data)
	if err != nil {
		return err
	}
	data, err = c.e.buf.read(c.poolPath)
	if err != nil {
		return err
	}
	pool, err := parseSingleUint("poolsize", data)
	if err != nil {
		return err
	}
	c.avail.send(ch, float64(avail), nil)
	c.pool.send(ch, float64(pool), nil)
	return nil
}
