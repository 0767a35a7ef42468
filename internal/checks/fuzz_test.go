package checks

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// FuzzAgentInput feeds arbitrary bodies and paths to the two endpoints
// that take outside input without a session: agents' check results and
// jobs' heartbeat pings. They must answer with a status, never panic, and
// keep the register consistent.
func FuzzAgentInput(f *testing.F) {
	f.Add(`{"instance":"w1","results":[{"check":"nginx","time":"2026-11-20T12:00:00Z","state":"down","reason":"x","duration_seconds":0.1}]}`, "0123456789abcdef0123", "fail?runtime=3")
	f.Add(`{"instance":"w1","results":[{"check":"web","state":"up"}]}`, "0123456789abcdef0123", "")
	f.Add(`{"instance":"","results":null}`, "x", "fail")
	f.Add(`[]`, "0123456789abcdef0123/../x", "?runtime=1e400")
	db := statetest.Open(f, state.DriverSQLite)
	m, err := New(f.Context(), Options{DB: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	if err := m.SetChecks(f.Context(), testChecks()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, token, suffix string) {
		rec := httptest.NewRecorder()
		m.ResultsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/agent/checks", strings.NewReader(body)))
		if rec.Code != http.StatusNoContent && rec.Code != http.StatusBadRequest {
			t.Fatalf("results answered %d: %s", rec.Code, rec.Body)
		}
		path := HeartbeatPath + token + "/" + suffix
		if strings.ContainsAny(path, " \t\r\n#%") {
			return // not a request line a client can send
		}
		req, err := http.NewRequest(http.MethodPost, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		rec = httptest.NewRecorder()
		m.PingHandler().ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound:
		default:
			t.Fatalf("ping answered %d: %s", rec.Code, rec.Body)
		}
		m.mu.RLock()
		for k, st := range m.status {
			if _, ok := m.byName[k.check]; !ok && st.LastRun.After(time.Time{}) && st.State != StateUnknown {
				m.mu.RUnlock()
				t.Fatalf("a result for an unconfigured check %q was kept", k.check)
			}
		}
		m.mu.RUnlock()
	})
}
