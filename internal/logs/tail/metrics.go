package tail

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the collector's metrics.
type metrics struct {
	linesRead      *prometheus.CounterVec
	bytesRead      *prometheus.CounterVec
	linesDropped   *prometheus.CounterVec
	linesTruncated *prometheus.CounterVec
	filesFollowed  prometheus.Gauge
	sinkErrors     prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		linesRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_log_lines_read_total",
			Help: "Log lines (and journal entries) read, by source.",
		}, []string{"source"}),
		bytesRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_log_bytes_read_total",
			Help: "Bytes of log lines read, by source (after cutting long lines).",
		}, []string{"source"}),
		linesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_log_lines_dropped_total",
			Help: "Log lines dropped without being shipped, by source and reason: rejected (the sink refused the batch as invalid), too_long (a journal entry too long to decode), unparsable (journalctl output that is not an entry).",
		}, []string{"source", "reason"}),
		linesTruncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_log_lines_truncated_total",
			Help: "Log lines longer than logs.max_line_size, shipped cut, by source.",
		}, []string{"source"}),
		filesFollowed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "saypro_agent_log_files_followed",
			Help: "Log files open for reading, rotated ones still being read included.",
		}),
		sinkErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "saypro_agent_log_sink_errors_total",
			Help: "Failed attempts to hand a batch of log lines to the sink (the queue or the server's log store); the batch is retried.",
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.linesRead, m.bytesRead, m.linesDropped, m.linesTruncated, m.filesFollowed, m.sinkErrors}
}

// Describe implements prometheus.Collector, so that all the metrics are
// registered at once or not at all.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// register registers the metrics.
func (m *metrics) register(reg prometheus.Registerer) error {
	if err := reg.Register(m); err != nil {
		return fmt.Errorf("tail: registering metrics: %w", err)
	}
	return nil
}
