package collector

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// pressureCollector exports pressure stall information (PSI) from
// /proc/pressure, parsed by procfs. Without it (kernels before 4.20 or
// without CONFIG_PSI) the collector reports no data, as node_exporter does:
// success 0, logged at debug level.
type pressureCollector struct {
	e                                *env
	cpuWaiting, ioWaiting, ioStalled family
	memoryWaiting, memoryStalled     family
}

func newPressureCollector(e *env) (collector, error) {
	return &pressureCollector{
		e:             e,
		cpuWaiting:    newFamily("node_pressure_cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time.", prometheus.CounterValue),
		ioWaiting:     newFamily("node_pressure_io_waiting_seconds_total", "Total time in seconds that processes have waited due to IO congestion.", prometheus.CounterValue),
		ioStalled:     newFamily("node_pressure_io_stalled_seconds_total", "Total time in seconds no process could make progress due to IO congestion.", prometheus.CounterValue),
		memoryWaiting: newFamily("node_pressure_memory_waiting_seconds_total", "Total time in seconds that processes have waited for memory.", prometheus.CounterValue),
		memoryStalled: newFamily("node_pressure_memory_stalled_seconds_total", "Total time in seconds no process could make progress due to memory congestion.", prometheus.CounterValue),
	}, nil
}

func (c *pressureCollector) update(ch chan<- prometheus.Metric) error {
	pfs, err := c.e.procfs()
	if err != nil {
		return err
	}
	var stats [3]procfs.PSIStats
	for i, resource := range [...]string{"cpu", "io", "memory"} {
		stats[i], err = pfs.PSIStatsForResource(resource)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: pressure stall information needs Linux 4.20 or later with CONFIG_PSI: %w", errNoData, err)
		}
		if err != nil {
			return err
		}
		if stats[i].Some == nil || resource != "cpu" && stats[i].Full == nil {
			return fmt.Errorf("pressure/%s: malformed: no some or full line", resource)
		}
	}
	const us = 1e6
	c.cpuWaiting.send(ch, float64(stats[0].Some.Total)/us, nil)
	c.ioWaiting.send(ch, float64(stats[1].Some.Total)/us, nil)
	c.ioStalled.send(ch, float64(stats[1].Full.Total)/us, nil)
	c.memoryWaiting.send(ch, float64(stats[2].Some.Total)/us, nil)
	c.memoryStalled.send(ch, float64(stats[2].Full.Total)/us, nil)
	return nil
}
