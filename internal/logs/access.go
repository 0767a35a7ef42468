package logs

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/saypro/monitor/internal/logs/parse"
)

// maxVHosts bounds the distinct host and virtual host pairs that get their
// own series; later ones are counted under vhost="other".
const maxVHosts = 1000

// accessMetrics are the HTTP metrics derived from access logs, so that
// request rates, error rates, status codes and response times exist without
// an APM agent. instance is the host the log was read on.
type accessMetrics struct {
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu     sync.Mutex
	vhosts map[[2]string]bool
}

func newAccessMetrics(f promauto.Factory) *accessMetrics {
	return &accessMetrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_http_requests_total",
			Help: "HTTP requests read from access logs, by host, virtual host, status code and status class.",
		}, []string{"instance", "vhost", "code", "status_class"}),
		bytes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_http_response_size_bytes_total",
			Help: "Bytes sent in HTTP responses, read from access logs.",
		}, []string{"instance", "vhost"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "saypro_http_request_duration_seconds",
			Help:    "HTTP response times read from access logs that carry them (nginx $request_time, Apache %D).",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"instance", "vhost"}),
		vhosts: map[[2]string]bool{},
	}
}

func (m *accessMetrics) observe(host string, a *parse.Access) {
	vhost := a.VHost
	m.mu.Lock()
	k := [2]string{host, vhost}
	if !m.vhosts[k] {
		if len(m.vhosts) >= maxVHosts {
			vhost = "other"
		} else {
			m.vhosts[k] = true
		}
	}
	m.mu.Unlock()
	code := "other"
	if a.Status >= 100 && a.Status <= 599 {
		code = strconv.Itoa(a.Status)
	}
	m.requests.WithLabelValues(host, vhost, code, strconv.Itoa(a.Status/100)+"xx").Inc()
	if a.Bytes > 0 {
		m.bytes.WithLabelValues(host, vhost).Add(float64(a.Bytes))
	}
	if a.HasDuration {
		m.duration.WithLabelValues(host, vhost).Observe(a.Duration.Seconds())
	}
}
