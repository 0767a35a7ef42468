package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/prometheus/client_golang/prometheus"
)

// psiTotals are the "total=" counters (µs) of a /proc/pressure file.
type psiTotals struct {
	some, full       uint64
	hasSome, hasFull bool
}

// parsePSI reads the totals of the "some" and "full" lines of a
// /proc/pressure file ("some avg10=0.24 avg60=0.08 avg300=3.49
// total=299481715"). Lines of other kinds are skipped.
func parsePSI(file string, data []byte) (psiTotals, error) {
	var p psiTotals
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		kind, rest := nextField(line)
		if string(kind) != "some" && string(kind) != "full" {
			continue
		}
		total, found := uint64(0), false
		for {
			var field []byte
			field, rest = nextField(rest)
			if len(field) == 0 {
				break
			}
			if v, ok := bytes.CutPrefix(field, []byte("total=")); ok {
				total, found = parseUint(v)
				break
			}
		}
		if !found {
			return p, malformed(file, "no total in %q", line)
		}
		if kind[0] == 's' {
			p.some, p.hasSome = total, true
		} else {
			p.full, p.hasFull = total, true
		}
	}
	return p, nil
}

// pressureCollector exports pressure stall information (PSI) from
// /proc/pressure. Without it (kernels before 4.20 or without CONFIG_PSI)
// the collector reports no data, as node_exporter does: success 0, logged
// at debug level.
type pressureCollector struct {
	e                                *env
	paths                            [3]string // cpu, io, memory
	cpuWaiting, ioWaiting, ioStalled family
	memoryWaiting, memoryStalled     family
}

func newPressureCollector(e *env) (collector, error) {
	return &pressureCollector{
		e:             e,
		paths:         [3]string{e.procPath("pressure", "cpu"), e.procPath("pressure", "io"), e.procPath("pressure", "memory")},
		cpuWaiting:    newFamily("node_pressure_cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time.", prometheus.CounterValue),
		ioWaiting:     newFamily("node_pressure_io_waiting_seconds_total", "Total time in seconds that processes have waited due to IO congestion.", prometheus.CounterValue),
		ioStalled:     newFamily("node_pressure_io_stalled_seconds_total", "Total time in seconds no process could make progress due to IO congestion.", prometheus.CounterValue),
		memoryWaiting: newFamily("node_pressure_memory_waiting_seconds_total", "Total time in seconds that processes have waited for memory.", prometheus.CounterValue),
		memoryStalled: newFamily("node_pressure_memory_stalled_seconds_total", "Total time in seconds no process could make progress due to memory congestion.", prometheus.CounterValue),
	}, nil
}

func (c *pressureCollector) update(ch chan<- prometheus.Metric) error {
	var psi [3]psiTotals
	for i, path := range c.paths {
		data, err := c.e.buf.read(path)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: pressure stall information needs Linux 4.20 or later with CONFIG_PSI: %w", errNoData, err)
		}
		if err != nil {
			return err
		}
		if psi[i], err = parsePSI(path, data); err != nil {
			return err
		}
		if !psi[i].hasSome || i > 0 && !psi[i].hasFull {
			return malformed(path, "no some or full line")
		}
	}
	const us = 1e6
	c.cpuWaiting.send(ch, float64(psi[0].some)/us, nil)
	c.ioWaiting.send(ch, float64(psi[1].some)/us, nil)
	c.ioStalled.send(ch, float64(psi[1].full)/us, nil)
	c.memoryWaiting.send(ch, float64(psi[2].some)/us, nil)
	c.memoryStalled.send(ch, float64(psi[2].full)/us, nil)
	return nil
}
