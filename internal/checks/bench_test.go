package checks

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/probe"
	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// BenchmarkList is GET /api/v1/checks with 10,000 checks, each with a
// few state changes in the last day (SQLite).
func BenchmarkList(b *testing.B) {
	const n = 10_000
	db := statetest.Open(b, state.DriverSQLite)
	m, err := New(b.Context(), Options{DB: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	c := &clock{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	m.now = c.now
	cs := make([]checkconfig.Check, n)
	for i := range cs {
		cs[i] = checkconfig.Check{Name: fmt.Sprintf("web-%d", i), Kind: "http", Target: fmt.Sprintf("http://127.0.0.1/%d", i),
			Interval: model.Duration(10 * time.Second), Timeout: model.Duration(5 * time.Second)}
	}
	if err := m.SetChecks(b.Context(), cs); err != nil {
		b.Fatal(err)
	}
	for _, s := range []probe.State{probe.StateUp, probe.StateDown, probe.StateUp} {
		for i := range cs {
			m.Record(probe.Outcome{Check: cs[i].Name, Location: LocationServer, Time: c.t, State: s})
		}
		c.advance(time.Hour)
	}
	h := m.APIHandler()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/checks", nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
