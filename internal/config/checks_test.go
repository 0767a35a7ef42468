package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

func TestChecksFile(t *testing.T) {
	c, err := LoadFile("testdata/checks.good.yml")
	require.NoError(t, err)
	names := []string{}
	for _, ch := range c.Checks {
		names = append(names, ch.Name)
	}
	require.Equal(t, []string{"website", "db", "backup-job", "nginx-running", "dns-mx"}, names)
	web := c.Checks[0]
	require.Equal(t, model.Duration(30*time.Second), web.Interval)
	require.Equal(t, 3*time.Second, web.Latency(), "web checks default to the 3s threshold")
	require.Equal(t, 500*time.Millisecond, c.Checks[1].Latency(), "databases default to 500ms")
	require.Equal(t, "SELECT 1", c.Checks[1].Postgres.Query)
	require.Equal(t, checkconfig.DefaultTimeout, c.Checks[1].Timeout)
	require.Equal(t, "MX", c.Checks[4].DNS.Type, "defaults of a check file are filled in too")
	require.True(t, c.Checks[0].RunOn.OnServer())
	require.False(t, c.Checks[3].RunOn.OnServer())
	require.True(t, c.Checks[3].RunOn.Matches(map[string]string{"role": "web", "instance": "a"}))
}

func TestBadChecks(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // every one must appear in the error
	}{
		{"unknown kind", "checks:\n  - name: a\n    kind: gopher\n    target: x\n",
			[]string{"cfg.yml:3:", `check "a"`, `unknown kind "gopher"`}},
		{"missing target", "checks:\n  - name: web\n    kind: http\n",
			[]string{"cfg.yml:2:", `check "web"`, "has no target"}},
		{"interval below 1s", "checks:\n  - name: fast\n    kind: tcp\n    target: db:5432\n    interval: 500ms\n",
			[]string{"cfg.yml:5:", `check "fast"`, "below the minimum of 1s"}},
		{"bad regex", "checks:\n  - name: re\n    kind: http\n    target: http://x\n    http:\n      body_regex: 'a(b'\n",
			[]string{"cfg.yml:6:", `check "re"`, "invalid regular expression"}},
		{"no name", "checks:\n  - kind: tcp\n    target: a:1\n  - kind: tcp\n    target: b:1\n",
			[]string{"cfg.yml:2:", "check #1", "cfg.yml:4:", "check #2", "has no name"}},
		{"duplicate", "checks:\n  - name: a\n    kind: tcp\n    target: a:1\n  - name: a\n    kind: tcp\n    target: b:1\n",
			[]string{"used twice"}},
		{"wrong block", "checks:\n  - name: a\n    kind: tcp\n    target: a:1\n    http: {method: GET}\n",
			[]string{"cfg.yml:5:", `has a http block but is of kind "tcp"`}},
		{"unknown key", "checks:\n  - name: a\n    kind: tcp\n    target: a:1\n    intervall: 5s\n",
			[]string{"cfg.yml:5:", "unknown key intervall"}},
		{"short heartbeat token", "checks:\n  - name: hb\n    kind: heartbeat\n    heartbeat:\n      token: short\n      period: 1h\n",
			[]string{"cfg.yml:5:", "at least 16 characters"}},
		{"reserved label", "checks:\n  - name: a\n    kind: tcp\n    target: a:1\n    labels: {instance: x}\n",
			[]string{"cfg.yml:5:", `label "instance" is set by the check`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "cfg.yml")
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestCheckFileErrors(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "saypro-monitor.yml")
	require.NoError(t, os.WriteFile(main, []byte("check_files: [checks/*.yml]\nchecks:\n  - name: a\n    kind: tcp\n    target: a:1\n"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "checks"), 0o750))
	bad := filepath.Join(dir, "checks", "web.yml")
	require.NoError(t, os.WriteFile(bad, []byte("checks:\n  - name: b\n    kind: http\n    target: ftp://x\n"), 0o600))
	_, err := LoadFile(main)
	require.ErrorContains(t, err, bad+":4:")
	require.ErrorContains(t, err, `check "b"`)

	require.NoError(t, os.WriteFile(bad, []byte("checks:\n  - name: a\n    kind: tcp\n    target: b:1\n"), 0o600))
	_, err = LoadFile(main)
	require.ErrorContains(t, err, `check "a" is also defined in `+main)
}

func TestRuleFilesAreParsed(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte("groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: up ==\n"), 0o600))
	main := filepath.Join(dir, "saypro-monitor.yml")
	require.NoError(t, os.WriteFile(main, []byte("rule_files: [rules.yml]\n"), 0o600))
	_, err := LoadFile(main)
	require.ErrorContains(t, err, rules+": 5:15: group \"x\", rule 1, \"Broken\": could not parse expression")

	require.NoError(t, os.WriteFile(rules, []byte("groups:\n  - name: x\n    rules:\n      - alert: Fine\n        expr: up == 0\n"), 0o600))
	c, err := LoadFile(main)
	require.NoError(t, err)
	require.Equal(t, []string{rules}, c.RuleFiles)
}
