package probe

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// apacheProber reads apache's mod_status page in its ?auto form.
type apacheProber struct {
	page   *statusPage
	logger *slog.Logger
}

func newApache(c *checkconfig.Check, env Env) (Prober, error) {
	target, err := apacheAutoURL(c.Target)
	if err != nil {
		return nil, err
	}
	page, err := newStatusPage(target, c.Apache, env)
	if err != nil {
		return nil, err
	}
	return &apacheProber{page: page, logger: env.Logger.With("check", c.Name, "kind", c.Kind)}, nil
}

// apacheAutoURL adds ?auto to a status URL that lacks it: without it
// mod_status answers HTML.
func apacheAutoURL(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("target %q is not a URL: %w", target, err)
	}
	if !u.Query().Has("auto") {
		if u.RawQuery == "" {
			u.RawQuery = "auto"
		} else {
			u.RawQuery += "&auto"
		}
	}
	return u.String(), nil
}

// Close releases the HTTP client.
func (p *apacheProber) Close() error { return p.page.Close() }

// apacheScoreboard names the scoreboard's characters as apache_exporter
// does.
var apacheScoreboard = []struct {
	char  byte
	state string
}{
	{'_', "idle"}, {'S', "startup"}, {'R', "read"}, {'W', "reply"}, {'K', "keepalive"},
	{'D', "dns"}, {'C', "closing"}, {'L', "logging"}, {'G', "graceful_stop"},
	{'I', "idle_cleanup"}, {'.', "open_slot"},
}

// apacheGauges are the numeric lines turned into series, when present:
// key, metric, label pair.
var apacheGauges = []struct{ key, metric, label, value string }{
	{"Total Accesses", "saypro_apache_accesses_total", "", ""},
	{"Total kBytes", "saypro_apache_sent_kilobytes_total", "", ""},
	{"Uptime", "saypro_apache_uptime_seconds", "", ""},
	{"ReqPerSec", "saypro_apache_requests_per_second", "", ""},
	{"CPULoad", "saypro_apache_cpu_load", "", ""},
	{"Processes", "saypro_apache_processes", "", ""},
	{"BusyWorkers", "saypro_apache_workers", "state", "busy"},
	{"IdleWorkers", "saypro_apache_workers", "state", "idle"},
	{"ConnsTotal", "saypro_apache_connections", "state", "total"},
	{"ConnsAsyncWriting", "saypro_apache_connections", "state", "writing"},
	{"ConnsAsyncKeepAlive", "saypro_apache_connections", "state", "keepalive"},
	{"ConnsAsyncClosing", "saypro_apache_connections", "state", "closing"},
}

// Probe fetches and parses the status page. It is down when the page
// cannot be read or parsed, and degraded when no worker is idle.
func (p *apacheProber) Probe(ctx context.Context) Result {
	var r Result
	body, reason := p.page.fetch(ctx, &r)
	if reason != "" {
		return r.Failf("%s", reason)
	}
	st, err := parseApacheStatus(body)
	if err != nil {
		return r.Failf("%s is not an apache mod_status ?auto page: %v", p.page.shown, err)
	}
	for _, g := range apacheGauges {
		v, ok := st.Fields[g.key]
		if !ok {
			continue
		}
		if g.label != "" {
			r.Add(g.metric, v, g.label, g.value)
		} else {
			r.Add(g.metric, v)
		}
	}
	if st.Scoreboard != "" {
		counts := st.scoreboardCounts()
		for _, s := range apacheScoreboard {
			r.Add("saypro_apache_scoreboard", float64(counts[s.state]), "state", s.state)
		}
	}
	if st.Version != "" || st.MPM != "" {
		r.Add("saypro_apache_info", 1, "version", st.Version, "mpm", st.MPM)
	}
	r.Success = true
	if busy, idle := st.Fields["BusyWorkers"], st.Fields["IdleWorkers"]; idle == 0 && busy > 0 {
		r.Warnf("all %g apache workers are busy (0 idle): MaxRequestWorkers reached?", busy)
	}
	return r
}

// apacheStatus is what mod_status ?auto shows.
type apacheStatus struct {
	// Fields are the numeric lines of apacheNumeric by key.
	Fields     map[string]float64
	Version    string // ServerVersion
	MPM        string // ServerMPM
	Scoreboard string
}

// apacheNumeric are the numeric lines read; others are ignored.
var apacheNumeric = []string{
	"Total Accesses", "Total kBytes", "Total Duration", "Uptime", "ServerUptimeSeconds",
	"CPULoad", "CPUUser", "CPUSystem", "CPUChildrenUser", "CPUChildrenSystem",
	"ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq",
	"BusyWorkers", "IdleWorkers", "GracefulWorkers", "Processes", "Stopping",
	"ConnsTotal", "ConnsAsyncWriting", "ConnsAsyncKeepAlive", "ConnsAsyncClosing",
	"ParentServerConfigGeneration", "ParentServerMPMGeneration", "Load1", "Load5", "Load15",
}

// parseApacheStatus reads "Key: value" lines; lines without a colon (the
// server's name first) and unknown keys are skipped. BusyWorkers and
// IdleWorkers must be there.
func parseApacheStatus(text string) (apacheStatus, error) {
	st := apacheStatus{Fields: map[string]float64{}}
	for i, line := range strings.Split(text, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "ServerVersion":
			st.Version = value
			continue
		case "ServerMPM":
			st.MPM = value
			continue
		case "Scoreboard":
			st.Scoreboard = value
			continue
		}
		if !slices.Contains(apacheNumeric, key) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return st, fmt.Errorf("line %d (%s): %q is not a number", i+1, quoteStatusLine(strings.TrimSpace(line)), value)
		}
		st.Fields[key] = v
	}
	for _, k := range []string{"BusyWorkers", "IdleWorkers"} {
		if _, ok := st.Fields[k]; !ok {
			return st, fmt.Errorf("no %s line (is ?auto missing from the URL, or is it an HTML page?)", k)
		}
	}
	return st, nil
}

// String formats the status as mod_status ?auto does, fields in
// apacheNumeric order.
func (s apacheStatus) String() string {
	var b strings.Builder
	b.WriteString("localhost\n")
	if s.Version != "" {
		fmt.Fprintf(&b, "ServerVersion: %s\n", s.Version)
	}
	if s.MPM != "" {
		fmt.Fprintf(&b, "ServerMPM: %s\n", s.MPM)
	}
	for _, k := range apacheNumeric {
		if v, ok := s.Fields[k]; ok {
			fmt.Fprintf(&b, "%s: %s\n", k, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	if s.Scoreboard != "" {
		fmt.Fprintf(&b, "Scoreboard: %s\n", s.Scoreboard)
	}
	return b.String()
}

// scoreboardCounts counts the scoreboard's slots by state; unknown
// characters are not counted.
func (s apacheStatus) scoreboardCounts() map[string]int {
	counts := make(map[string]int, len(apacheScoreboard))
	for i := 0; i < len(s.Scoreboard); i++ {
		for _, sb := range apacheScoreboard {
			if s.Scoreboard[i] == sb.char {
				counts[sb.state]++
				break
			}
		}
	}
	return counts
}
