package logs

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Rule counts the entries matching Filter over Window, per group of the
// GroupBy fields, and fires for every group whose count reaches Threshold
// (and, with BaselineFactor, is that many times the group's average per
// window over the BaselineWindow before).
type Rule struct {
	Name           string            `json:"name"`
	Filter         Filter            `json:"-"`
	GroupBy        []string          `json:"group_by"`
	Window         time.Duration     `json:"-"`
	Threshold      uint64            `json:"threshold"`
	BaselineFactor float64           `json:"baseline_factor,omitempty"`
	BaselineWindow time.Duration     `json:"-"`
	Labels         map[string]string `json:"labels,omitempty"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Builtin        bool              `json:"builtin"`
}

// BuiltinRules are the rules shipped with the server; a configured rule of
// the same name replaces one.
func BuiltinRules() []Rule {
	return []Rule{
		{
			Name:      "SSHBruteForce",
			Filter:    Filter{Fields: []FieldMatch{{Name: "event", Value: "ssh_failed"}}},
			GroupBy:   []string{"host", "src_ip"},
			Window:    5 * time.Minute,
			Threshold: 10,
			Labels:    map[string]string{"severity": "warning", "category": "security"},
			Annotations: map[string]string{
				"summary":     "{{ .Count }} failed SSH logins from {{ .Labels.src_ip }} on {{ .Labels.host }} in {{ .Window }}",
				"description": "Someone at {{ .Labels.src_ip }} is guessing passwords on {{ .Labels.host }}. Block the address (firewall, fail2ban) and check that password logins are off (PasswordAuthentication no).",
			},
			Builtin: true,
		},
		{
			Name:           "ErrorLogSpike",
			Filter:         Filter{Severities: []string{"emerg", "alert", "crit", "err"}},
			GroupBy:        []string{"host", "service"},
			Window:         5 * time.Minute,
			Threshold:      20,
			BaselineFactor: 5,
			BaselineWindow: time.Hour,
			Labels:         map[string]string{"severity": "warning"},
			Annotations: map[string]string{
				"summary":     "{{ .Count }} error lines from {{ .Labels.service }} on {{ .Labels.host }} in {{ .Window }}, far above its usual rate",
				"description": "The error rate of {{ .Labels.service }} jumped. Open its logs for this window and look at the first new error.",
			},
			Builtin: true,
		},
		{
			Name:      "KernelOOMKill",
			Filter:    Filter{Fields: []FieldMatch{{Name: "event", Value: "oom_kill"}}},
			GroupBy:   []string{"host"},
			Window:    5 * time.Minute,
			Threshold: 1,
			Labels:    map[string]string{"severity": "critical"},
			Annotations: map[string]string{
				"summary":     "The kernel killed {{ .Count }} process(es) on {{ .Labels.host }} for lack of memory",
				"description": "The host ran out of memory and the OOM killer ended a process. Find the process in the kernel log, then add memory or limit it (systemd MemoryMax, container limits).",
			},
			Builtin: true,
		},
		{
			Name:      "DiskIOErrors",
			Filter:    Filter{Fields: []FieldMatch{{Name: "event", Value: "disk_io_error"}}},
			GroupBy:   []string{"host", "device"},
			Window:    5 * time.Minute,
			Threshold: 1,
			Labels:    map[string]string{"severity": "critical"},
			Annotations: map[string]string{
				"summary":     "{{ .Count }} disk I/O errors on {{ .Labels.device }} of {{ .Labels.host }}",
				"description": "The kernel reports I/O errors on {{ .Labels.device }}: the disk or its cable may be failing. Check SMART (smartctl -a), make sure backups are current and plan a replacement.",
			},
			Builtin: true,
		},
	}
}

// Alert is what a rule hands to the Alertmanager.
type Alert struct {
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// RulesOptions configure the log rule evaluator.
type RulesOptions struct {
	Store    Store
	Send     func(ctx context.Context, alerts []Alert)
	Interval time.Duration
	// ExternalURL is the server's URL, for links to the logs page.
	ExternalURL func() string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Rules evaluates log rules every interval.
type Rules struct {
	o RulesOptions

	mu    sync.Mutex
	rules []compiledRule
	state map[string]*ruleState

	evals    *prometheus.CounterVec
	failures *prometheus.CounterVec
}

type compiledRule struct {
	Rule
	annotations map[string]*template.Template
}

type ruleState struct {
	active   map[string]*activeGroup
	lastEval time.Time
	lastErr  string
	took     time.Duration
}

type activeGroup struct {
	labels map[string]string
	count  uint64
	since  time.Time
	alert  Alert
}

// NewRules returns an evaluator with no rules; Apply sets them.
func NewRules(o RulesOptions) *Rules {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.ExternalURL == nil {
		o.ExternalURL = func() string { return "" }
	}
	f := promauto.With(o.Registerer)
	return &Rules{
		o:     o,
		state: map[string]*ruleState{},
		evals: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_log_rule_evaluations_total", Help: "Log rule evaluations.",
		}, []string{"rule"}),
		failures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_log_rule_evaluation_failures_total", Help: "Log rule evaluations that failed.",
		}, []string{"rule"}),
	}
}

// Apply replaces the rules; the state of rules that keep their name is
// kept. A bad annotation template is an error naming the rule.
func (r *Rules) Apply(rules []Rule) error {
	compiled := make([]compiledRule, 0, len(rules))
	for _, rule := range rules {
		c := compiledRule{Rule: rule, annotations: map[string]*template.Template{}}
		for k, text := range rule.Annotations {
			t, err := template.New(k).Option("missingkey=zero").Parse(text)
			if err != nil {
				return fmt.Errorf("log rule %s: annotation %s: %w", rule.Name, k, err)
			}
			c.annotations[k] = t
		}
		compiled = append(compiled, c)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules = compiled
	keep := map[string]*ruleState{}
	for _, c := range compiled {
		if s := r.state[c.Name]; s != nil {
			keep[c.Name] = s
		} else {
			keep[c.Name] = &ruleState{active: map[string]*activeGroup{}}
		}
	}
	r.state = keep
	return nil
}

// Run evaluates every interval until ctx ends.
func (r *Rules) Run(ctx context.Context) error {
	t := time.NewTicker(r.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			r.Eval(ctx, now)
		}
	}
}

// Eval evaluates every rule at now and sends firing and resolved alerts.
func (r *Rules) Eval(ctx context.Context, now time.Time) {
	r.mu.Lock()
	rules := slices.Clone(r.rules)
	r.mu.Unlock()
	var out []Alert
	for _, rule := range rules {
		start := time.Now()
		groups, err := r.evalRule(ctx, rule, now)
		r.evals.WithLabelValues(rule.Name).Inc()
		r.mu.Lock()
		st := r.state[rule.Name]
		if st == nil {
			r.mu.Unlock()
			continue
		}
		st.lastEval, st.took = now, time.Since(start)
		if err != nil {
			st.lastErr = err.Error()
			r.mu.Unlock()
			r.failures.WithLabelValues(rule.Name).Inc()
			r.o.Logger.Warn("evaluating a log rule", "rule", rule.Name, "err", err)
			continue
		}
		st.lastErr = ""
		seen := map[string]bool{}
		for _, g := range groups {
			key := groupKey(g.Labels)
			seen[key] = true
			a := st.active[key]
			if a == nil {
				a = &activeGroup{labels: g.Labels, since: now}
				st.active[key] = a
			}
			a.count = g.Count
			a.alert = r.alert(rule, a, now)
			out = append(out, a.alert)
		}
		for key, a := range st.active {
			if !seen[key] {
				a.alert.EndsAt = now
				out = append(out, a.alert)
				delete(st.active, key)
			}
		}
		r.mu.Unlock()
	}
	if len(out) > 0 && r.o.Send != nil {
		r.o.Send(ctx, out)
	}
}

func groupKey(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}

func (r *Rules) evalRule(ctx context.Context, rule compiledRule, now time.Time) ([]Group, error) {
	f := rule.Filter
	f.Start, f.End = now.Add(-rule.Window), now
	groups, err := r.o.Store.CountBy(ctx, f, rule.GroupBy, rule.Threshold)
	if err != nil || rule.BaselineFactor <= 0 || len(groups) == 0 {
		return groups, err
	}
	bf := rule.Filter
	bf.Start, bf.End = now.Add(-rule.Window-rule.BaselineWindow), now.Add(-rule.Window)
	base, err := r.o.Store.CountBy(ctx, bf, rule.GroupBy, 1)
	if err != nil {
		return nil, err
	}
	perWindow := map[string]float64{}
	for _, b := range base {
		perWindow[groupKey(b.Labels)] = float64(b.Count) * rule.Window.Seconds() / rule.BaselineWindow.Seconds()
	}
	out := groups[:0]
	for _, g := range groups {
		if float64(g.Count) >= rule.BaselineFactor*perWindow[groupKey(g.Labels)] {
			out = append(out, g)
		}
	}
	return out, nil
}

// alert builds the alert of a firing group: it is resent every evaluation
// with an end three intervals ahead, so it resolves by itself if the
// server stops.
func (r *Rules) alert(rule compiledRule, a *activeGroup, now time.Time) Alert {
	labels := map[string]string{"severity": "warning"}
	maps.Copy(labels, rule.Labels)
	for k, v := range a.labels {
		if v == "" {
			continue
		}
		name := strings.ReplaceAll(k, ".", "_")
		if k == FieldHost {
			name = "instance"
		}
		labels[name] = v
	}
	labels["alertname"] = rule.Name
	labels["log_rule"] = rule.Name
	data := struct {
		Labels    map[string]string
		Count     uint64
		Threshold uint64
		Window    string
	}{a.labels, a.count, rule.Threshold, formatWindow(rule.Window)}
	ann := map[string]string{}
	for k, t := range rule.annotations {
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			b.Reset()
			b.WriteString(rule.Annotations[k])
		}
		ann[k] = b.String()
	}
	if ann["summary"] == "" {
		ann["summary"] = fmt.Sprintf("%d matching log lines in %s (threshold %d)", a.count, formatWindow(rule.Window), rule.Threshold)
	}
	ann["log_count"] = strconv.FormatUint(a.count, 10)
	if rule.Builtin {
		ann["runbook_url"] = strings.TrimRight(r.o.ExternalURL(), "/") + "/runbooks/" + rule.Name
	}
	link := r.logsLink(rule, a.labels, a.since.Add(-rule.Window), now)
	ann["logs_url"] = link
	return Alert{Labels: labels, Annotations: ann, StartsAt: a.since, EndsAt: now.Add(3 * r.o.Interval), GeneratorURL: link}
}

func formatWindow(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// logsLink is the logs page showing the rule's entries of one group.
func (r *Rules) logsLink(rule compiledRule, group map[string]string, start, end time.Time) string {
	f := rule.Filter
	for k, v := range group {
		switch k {
		case FieldHost:
			f.Hosts = []string{v}
		case FieldSource:
			f.Sources = []string{v}
		case FieldService:
			f.Services = []string{v}
		case FieldSeverity:
			f.Severities = []string{v}
		default:
			f.Fields = append(f.Fields, FieldMatch{Name: k, Value: v})
		}
	}
	f.Start, f.End = start, end
	return strings.TrimRight(r.o.ExternalURL(), "/") + "/logs?" + FilterQuery(f).Encode()
}

// FilterQuery encodes f as the query parameters of the logs API and page.
func FilterQuery(f Filter) url.Values {
	v := url.Values{}
	if !f.Start.IsZero() {
		v.Set("start", strconv.FormatInt(f.Start.Unix(), 10))
	}
	if !f.End.IsZero() {
		v.Set("end", strconv.FormatInt(f.End.Unix(), 10))
	}
	for _, x := range f.Hosts {
		v.Add("host", x)
	}
	for _, x := range f.Sources {
		v.Add("source", x)
	}
	for _, x := range f.Services {
		v.Add("service", x)
	}
	for _, x := range f.Severities {
		v.Add("severity", x)
	}
	for _, m := range f.Fields {
		v.Add("field", m.Name+":"+m.Value)
	}
	if f.Text != "" {
		v.Set("q", f.Text)
	}
	if f.Regex != "" {
		v.Set("regex", f.Regex)
	}
	return v
}

// RuleStatus is a rule and its firing groups, for the API.
type RuleStatus struct {
	Rule
	Query         string        `json:"query"`
	WindowSeconds float64       `json:"window_seconds"`
	Severity      string        `json:"severity"`
	LastEval      time.Time     `json:"last_evaluation,omitzero"`
	LastError     string        `json:"last_error,omitempty"`
	EvalSeconds   float64       `json:"evaluation_seconds"`
	Firing        []FiringGroup `json:"firing"`
}

// FiringGroup is one firing group of a rule.
type FiringGroup struct {
	Group map[string]string `json:"group"`
	Count uint64            `json:"count"`
	Since time.Time         `json:"since"`
	URL   string            `json:"logs_url"`
}

// Status lists the rules with their firing groups.
func (r *Rules) Status() []RuleStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RuleStatus, 0, len(r.rules))
	for _, c := range r.rules {
		s := RuleStatus{Rule: c.Rule, Query: FilterQuery(c.Filter).Encode(), WindowSeconds: c.Window.Seconds(), Severity: c.Labels["severity"], Firing: []FiringGroup{}}
		if s.Severity == "" {
			s.Severity = "warning"
		}
		if st := r.state[c.Name]; st != nil {
			s.LastEval, s.LastError, s.EvalSeconds = st.lastEval, st.lastErr, st.took.Seconds()
			for _, a := range st.active {
				s.Firing = append(s.Firing, FiringGroup{Group: a.labels, Count: a.count, Since: a.since, URL: a.alert.GeneratorURL})
			}
			slices.SortFunc(s.Firing, func(a, b FiringGroup) int { return int(b.Count) - int(a.Count) })
		}
		out = append(out, s)
	}
	return out
}
