package logs_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

// alertSink records what rules send.
type alertSink struct {
	mu     sync.Mutex
	alerts []logs.Alert
}

func (s *alertSink) send(_ context.Context, as []logs.Alert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts = append(s.alerts, as...)
}

// take returns and forgets the alerts sent so far, by alertname and the
// labels that tell groups apart.
func (s *alertSink) take() map[string]logs.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]logs.Alert{}
	for _, a := range s.alerts {
		out[alertKey(a.Labels)] = a
	}
	s.alerts = nil
	return out
}

func alertKey(l map[string]string) string {
	k := l["alertname"] + "/" + l["instance"]
	for _, n := range []string{"src_ip", "service", "device"} {
		if l[n] != "" {
			k += "/" + l[n]
		}
	}
	return k
}

// addEvents stores n entries of host ending at end, one every step back.
func addEvents(t *testing.T, st *vlstore.Store, n int, end time.Time, step time.Duration, e logs.Entry) {
	t.Helper()
	es := make([]logs.Entry, n)
	for i := range es {
		es[i] = e
		es[i].Time = end.Add(-time.Duration(i) * step)
		if es[i].Message == "" {
			es[i].Message = fmt.Sprintf("event %d", i)
		}
	}
	require.NoError(t, st.Add(es))
}

func newRules(t *testing.T, st *vlstore.Store) (*logs.Rules, *alertSink) {
	t.Helper()
	sink := &alertSink{}
	r := logs.NewRules(logs.RulesOptions{Store: st, Send: sink.send, Interval: time.Minute, ExternalURL: func() string { return "https://monitor.example.co.za/" }})
	require.NoError(t, r.Apply(logs.BuiltinRules()))
	return r, sink
}

func TestRulesBuiltin(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	now := time.Now().UTC().Truncate(time.Second)
	failed := func(host, ip string) logs.Entry {
		return logs.Entry{Host: host, Source: "auth", Service: "sshd", Severity: "info",
			Fields: map[string]string{"event": "ssh_failed", "src_ip": ip, "user": "root"}}
	}
	// web1: 10 failures from .5 and 9 from .6 within 5 minutes; web2: 10
	// from .5 but spread over 10 minutes (5 in the window).
	addEvents(t, st, 10, now.Add(-10*time.Second), 20*time.Second, failed("web1", "203.0.113.5"))
	addEvents(t, st, 9, now.Add(-10*time.Second), 20*time.Second, failed("web1", "203.0.113.6"))
	addEvents(t, st, 10, now.Add(-10*time.Second), time.Minute, failed("web2", "203.0.113.5"))
	// Kernel events: one OOM kill and one I/O error on db1.
	require.NoError(t, st.Add([]logs.Entry{
		{Time: now.Add(-time.Minute), Host: "db1", Source: "kern", Service: "kernel", Severity: "err", Message: "Out of memory: Killed process 2198 (mariadbd)",
			Fields: map[string]string{"event": "oom_kill", "process": "mariadbd", "pid": "2198"}},
		{Time: now.Add(-2 * time.Minute), Host: "db1", Source: "kern", Service: "kernel", Severity: "err", Message: "I/O error, dev sdb, sector 1953512",
			Fields: map[string]string{"event": "disk_io_error", "device": "sdb"}},
	}))
	// Error lines for ErrorLogSpike, window [now-5m, now], baseline the
	// hour before: spike 25 with no baseline (fires); steady 25 with 72
	// in the hour, 6 a window, 5x = 30 (does not fire); rising 25 with 48
	// in the hour, 4 a window, 5x = 20 (fires); few 19 (under 20).
	errLine := func(service string) logs.Entry {
		return logs.Entry{Host: "app1", Source: "syslog", Service: service, Severity: "err"}
	}
	addEvents(t, st, 25, now.Add(-10*time.Second), 10*time.Second, errLine("spike"))
	addEvents(t, st, 25, now.Add(-10*time.Second), 10*time.Second, errLine("steady"))
	addEvents(t, st, 72, now.Add(-6*time.Minute), 45*time.Second, errLine("steady"))
	addEvents(t, st, 25, now.Add(-10*time.Second), 10*time.Second, errLine("rising"))
	addEvents(t, st, 48, now.Add(-6*time.Minute), time.Minute, errLine("rising"))
	addEvents(t, st, 19, now.Add(-10*time.Second), 10*time.Second, errLine("few"))
	st.Flush()

	r, sink := newRules(t, st)
	r.Eval(context.Background(), now)
	got := sink.take()
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{
		"SSHBruteForce/web1/203.0.113.5",
		"ErrorLogSpike/app1/spike",
		"ErrorLogSpike/app1/rising",
		"KernelOOMKill/db1",
		"DiskIOErrors/db1/sdb",
	}, keys)

	ssh := got["SSHBruteForce/web1/203.0.113.5"]
	require.Equal(t, map[string]string{"alertname": "SSHBruteForce", "log_rule": "SSHBruteForce", "severity": "warning", "category": "security",
		"instance": "web1", "src_ip": "203.0.113.5"}, ssh.Labels)
	require.Equal(t, "10 failed SSH logins from 203.0.113.5 on web1 in 5m", ssh.Annotations["summary"])
	require.Contains(t, ssh.Annotations["description"], "Someone at 203.0.113.5 is guessing passwords on web1.")
	require.Equal(t, "10", ssh.Annotations["log_count"])
	require.True(t, ssh.StartsAt.Equal(now))
	require.True(t, ssh.EndsAt.Equal(now.Add(3*time.Minute)), "a firing alert ends three intervals ahead: %s", ssh.EndsAt)
	link, err := url.Parse(ssh.Annotations["logs_url"])
	require.NoError(t, err)
	require.Equal(t, ssh.GeneratorURL, link.String())
	require.Equal(t, "https://monitor.example.co.za/logs", link.Scheme+"://"+link.Host+link.Path)
	q := link.Query()
	require.Equal(t, []string{"web1"}, q["host"])
	require.ElementsMatch(t, []string{"event:ssh_failed", "src_ip:203.0.113.5"}, q["field"])
	require.Equal(t, fmt.Sprint(now.Add(-5*time.Minute).Unix()), q.Get("start"))
	require.Equal(t, fmt.Sprint(now.Unix()), q.Get("end"))

	spike := got["ErrorLogSpike/app1/spike"]
	require.Equal(t, "25 error lines from spike on app1 in 5m, far above its usual rate", spike.Annotations["summary"])
	require.Equal(t, "app1", spike.Labels["instance"])
	oom := got["KernelOOMKill/db1"]
	require.Equal(t, "critical", oom.Labels["severity"])
	require.Equal(t, "The kernel killed 1 process(es) on db1 for lack of memory", oom.Annotations["summary"])
	io := got["DiskIOErrors/db1/sdb"]
	require.Equal(t, "1 disk I/O errors on sdb of db1", io.Annotations["summary"])
	require.Equal(t, "sdb", io.Labels["device"])

	// Status lists the firing groups.
	status := map[string]logs.RuleStatus{}
	for _, s := range r.Status() {
		status[s.Name] = s
	}
	require.Len(t, status, 4)
	require.Len(t, status["SSHBruteForce"].Firing, 1)
	require.Equal(t, map[string]string{"host": "web1", "src_ip": "203.0.113.5"}, status["SSHBruteForce"].Firing[0].Group)
	require.Equal(t, uint64(10), status["SSHBruteForce"].Firing[0].Count)
	require.Equal(t, 300.0, status["SSHBruteForce"].WindowSeconds)
	require.Equal(t, "warning", status["SSHBruteForce"].Severity)
	require.True(t, status["SSHBruteForce"].Builtin)
	require.Equal(t, "field=event%3Assh_failed", status["SSHBruteForce"].Query)
	require.Len(t, status["ErrorLogSpike"].Firing, 2)
	require.Equal(t, "critical", status["KernelOOMKill"].Severity)
	require.True(t, status["KernelOOMKill"].LastEval.Equal(now))
	require.Empty(t, status["KernelOOMKill"].LastError)

	// A minute later the same groups fire, still since the first time.
	later := now.Add(time.Minute)
	r.Eval(context.Background(), later)
	got = sink.take()
	require.Len(t, got, 5)
	require.True(t, got["SSHBruteForce/web1/203.0.113.5"].StartsAt.Equal(now))
	require.True(t, got["SSHBruteForce/web1/203.0.113.5"].EndsAt.Equal(later.Add(3*time.Minute)))

	// Apply with the same names keeps the state; a renamed rule starts over.
	rules := logs.BuiltinRules()
	rules[0].Name = "SSHBruteForceRenamed"
	require.NoError(t, r.Apply(rules))
	status = map[string]logs.RuleStatus{}
	for _, s := range r.Status() {
		status[s.Name] = s
	}
	require.Empty(t, status["SSHBruteForceRenamed"].Firing)
	require.Len(t, status["KernelOOMKill"].Firing, 1)
	require.True(t, status["KernelOOMKill"].Firing[0].Since.Equal(now))
	again := later.Add(time.Second)
	r.Eval(context.Background(), again)
	got = sink.take()
	require.True(t, got["KernelOOMKill/db1"].StartsAt.Equal(now), "Apply lost the state of a rule that kept its name")
	require.True(t, got["SSHBruteForceRenamed/web1/203.0.113.5"].StartsAt.Equal(again), "%v", got)

	// Ten minutes on the events left the window: every alert resolves,
	// with EndsAt the evaluation time, and nothing fires any more.
	end := now.Add(10 * time.Minute)
	r.Eval(context.Background(), end)
	got = sink.take()
	require.Len(t, got, 5)
	for k, a := range got {
		require.True(t, a.EndsAt.Equal(end), "%s ends at %s, want %s", k, a.EndsAt, end)
	}
	for _, s := range r.Status() {
		require.Empty(t, s.Firing, s.Name)
	}
	r.Eval(context.Background(), end.Add(time.Minute))
	require.Empty(t, sink.take(), "resolved alerts are sent again")
}

func TestRulesResolveWhenCountDrops(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	now := time.Now().UTC().Truncate(time.Second)
	// 10 failures 4m50s .. 4m05s before now: at now+20s only 6 are left
	// in the window.
	addEvents(t, st, 10, now.Add(-4*time.Minute-5*time.Second), 5*time.Second, logs.Entry{Host: "web1", Source: "auth", Service: "sshd",
		Fields: map[string]string{"event": "ssh_failed", "src_ip": "198.51.100.7"}})
	st.Flush()
	r, sink := newRules(t, st)
	r.Eval(context.Background(), now)
	got := sink.take()
	require.Contains(t, got, "SSHBruteForce/web1/198.51.100.7")
	require.False(t, got["SSHBruteForce/web1/198.51.100.7"].EndsAt.Before(now.Add(time.Minute)))
	at := now.Add(20 * time.Second)
	r.Eval(context.Background(), at)
	got = sink.take()
	require.Len(t, got, 1)
	require.True(t, got["SSHBruteForce/web1/198.51.100.7"].EndsAt.Equal(at))
}

func TestRulesCustom(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	now := time.Now().UTC().Truncate(time.Second)
	addEvents(t, st, 3, now.Add(-time.Second), time.Second, logs.Entry{Host: "web1", Source: "nginx-access", Service: "nginx",
		Message: "upstream timed out", Fields: map[string]string{"status": "504", "sd.x": "y"}})
	st.Flush()
	sink := &alertSink{}
	r := logs.NewRules(logs.RulesOptions{Store: st, Send: sink.send})
	require.NoError(t, r.Apply([]logs.Rule{{
		Name:        "UpstreamTimeouts",
		Filter:      logs.Filter{Text: `"timed out"`, Services: []string{"nginx"}},
		GroupBy:     []string{"host", "sd.x"},
		Window:      90 * time.Second,
		Threshold:   3,
		Labels:      map[string]string{"team": "web"},
		Annotations: map[string]string{"description": "{{ .Count }} over {{ .Threshold }} on {{ .Labels.host }} in {{ .Window }}", "bad": "{{ .Nope.field }}"},
	}}))
	r.Eval(context.Background(), now)
	got := sink.take()
	a, ok := got["UpstreamTimeouts/web1"]
	require.True(t, ok, "%v", got)
	require.Equal(t, "3 over 3 on web1 in 1m30s", a.Annotations["description"])
	require.Equal(t, "3 matching log lines in 1m30s (threshold 3)", a.Annotations["summary"])
	require.Equal(t, "web", a.Labels["team"])
	require.Equal(t, "warning", a.Labels["severity"])
	require.Equal(t, "y", a.Labels["sd_x"], "a dotted field is a label with an underscore")
	require.Equal(t, "{{ .Nope.field }}", a.Annotations["bad"], "a template failing to run is shown as written")
	require.True(t, strings.HasPrefix(a.GeneratorURL, "/logs?"))
}

func TestRulesApplyBadTemplate(t *testing.T) {
	r := logs.NewRules(logs.RulesOptions{Store: openStore(t, vlstore.Options{})})
	require.NoError(t, r.Apply(logs.BuiltinRules()))
	err := r.Apply([]logs.Rule{{Name: "Broken", Window: time.Minute, Threshold: 1, Annotations: map[string]string{"summary": "{{ .Count"}}})
	require.ErrorContains(t, err, "Broken")
	require.ErrorContains(t, err, "summary")
	require.Len(t, r.Status(), 4, "a failed Apply changed the rules")
}

func TestRulesEvalFailure(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	sink := &alertSink{}
	r := logs.NewRules(logs.RulesOptions{Store: st, Send: sink.send})
	require.NoError(t, r.Apply([]logs.Rule{{Name: "BadRegex", Filter: logs.Filter{Regex: "(unclosed"}, Window: time.Minute, Threshold: 1}}))
	r.Eval(context.Background(), time.Now())
	require.Empty(t, sink.take())
	s := r.Status()
	require.Len(t, s, 1)
	require.NotEmpty(t, s[0].LastError)
}

func TestFilterQuery(t *testing.T) {
	f := logs.Filter{Start: time.Unix(1700000000, 0), End: time.Unix(1700003600, 0), Hosts: []string{"web1", "web2"}, Sources: []string{"auth"},
		Services: []string{"sshd"}, Severities: []string{"err", "crit"}, Fields: []logs.FieldMatch{{Name: "event", Value: "ssh_failed"}},
		Text: `root "Failed password"`, Regex: `port \d+`}
	v := logs.FilterQuery(f)
	require.Equal(t, url.Values{"start": {"1700000000"}, "end": {"1700003600"}, "host": {"web1", "web2"}, "source": {"auth"}, "service": {"sshd"},
		"severity": {"err", "crit"}, "field": {"event:ssh_failed"}, "q": {`root "Failed password"`}, "regex": {`port \d+`}}, v)
	require.Empty(t, logs.FilterQuery(logs.Filter{}))
}
