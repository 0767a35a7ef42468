package agent

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// TestAgentRunsAssignedChecks: the checks of the heartbeat answer run on
// the agent; their samples go to the sink's queue with the agent as
// location, their states to the server, kept while the server refuses them.
func TestAgentRunsAssignedChecks(t *testing.T) {
	// The agent's host checks read its configured /proc (here the
	// collector's fixture), so these use files.
	fresh := filepath.Join(t.TempDir(), "db-2026-11-21.sql.gz")
	require.NoError(t, os.WriteFile(fresh, []byte("backup"), 0o600))
	checks := []checkconfig.Check{
		{Name: "fresh-backup", Kind: checkconfig.KindFileAge, Target: fresh, FileAge: &checkconfig.FileAge{MaxAge: model.Duration(time.Hour)}},
		{Name: "backup-file", Kind: checkconfig.KindFileAge, Target: t.TempDir() + "/*.gz", FileAge: &checkconfig.FileAge{MaxAge: model.Duration(time.Hour)}},
	}
	for i := range checks {
		checks[i].Interval, checks[i].Timeout = model.Duration(time.Second), model.Duration(time.Second)
		checks[i].RunOn.Agents = map[string]string{"env": "test"}
	}
	require.NoError(t, checkconfig.ValidateAll("checks", checks))
	sink := &fakeSink{checks: checks, resultsFail: errors.New("server away")}
	var logs bytes.Buffer
	a := newTestAgent(t, sink, &logs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()

	// While the server refuses results, they wait.
	require.Eventually(t, func() bool {
		a.checks.mu.Lock()
		defer a.checks.mu.Unlock()
		return len(a.checks.unsent) >= 2
	}, 10*time.Second, 10*time.Millisecond)
	sink.mu.Lock()
	sink.resultsFail = nil
	sink.mu.Unlock()

	states := map[string]string{}
	reasons := map[string]string{}
	require.Eventually(t, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for _, rs := range sink.results {
			require.Equal(t, "fixture-host", rs.Instance)
			for _, r := range rs.Results {
				states[r.Check], reasons[r.Check] = r.State, r.Reason
			}
		}
		return len(states) == 2
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, "up", states["fresh-backup"])
	require.Equal(t, "down", states["backup-file"])
	require.Contains(t, reasons["backup-file"], "no file matches")
	require.Contains(t, logs.String(), "checks assigned by the server")

	// The samples: probe_success with the agent as location, not job=node.
	sink.mu.Lock()
	defer sink.mu.Unlock()
	found := false
	for _, w := range sink.writes {
		for _, ts := range w {
			ls := map[string]string{}
			for _, l := range ts.Labels {
				ls[l.Name] = l.Value
			}
			if ls["__name__"] == "probe_success" && ls["check"] == "fresh-backup" {
				found = true
				require.Equal(t, "checks", ls["job"])
				require.Equal(t, "fixture-host", ls["location"])
				require.Equal(t, 1.0, ts.Samples[0].Value)
			}
		}
	}
	require.True(t, found, "probe_success of the fresh backup check among the written series")
}
