package collector

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// agentCollector exports saypro_agent_info{version,goversion} 1.
type agentCollector struct {
	info   family
	labels []*dto.LabelPair
}

func newAgentCollector(e *env) (collector, error) {
	return &agentCollector{
		info:   newFamily("saypro_agent_info", "Version of the SayPro Monitor agent and of Go it was built with.", prometheus.GaugeValue, "version", "goversion"),
		labels: labelPairs("version", e.opts.AgentVersion, "goversion", runtime.Version()),
	}, nil
}

func (c *agentCollector) update(ch chan<- prometheus.Metric) error {
	c.info.send(ch, 1, c.labels)
	return nil
}
