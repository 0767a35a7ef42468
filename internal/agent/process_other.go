//go:build !linux

package agent

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func newProcessCollector() (prometheus.Collector, error) {
	return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), nil
}
