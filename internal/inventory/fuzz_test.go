package inventory

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/state/statetest"
)

// FuzzHeartbeat posts arbitrary bodies to the heartbeat handler on SQLite:
// the answer is 200 or a 4xx with a message, never a panic or a 500, and
// an accepted heartbeat can be read back through the API.
func FuzzHeartbeat(f *testing.F) {
	good, err := json.Marshal(heartbeat("web-1"))
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte(`{"instance":""}`))
	f.Add([]byte(`{"instance":"a/b","cpus":-1,"labels":{"__x":"y"}}`))
	f.Add([]byte(`{"instance":"x","boot_time":"9999-12-31T23:59:59Z","agent_start_time":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`[1,2,3]`))
	db := statetest.Open(f, "sqlite")
	inv, err := New(Options{DB: db, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
	require.NoError(f, err)
	hb, api := inv.HeartbeatHandler(), inv.APIHandler()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		hb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/agent/heartbeat", bytes.NewReader(body)))
		switch {
		case rec.Code == http.StatusOK:
			var sent struct {
				Instance string `json:"instance"`
			}
			require.NoError(t, json.Unmarshal(body, &sent))
			get := httptest.NewRecorder()
			api.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/api/v1/hosts", nil))
			require.Equal(t, http.StatusOK, get.Code)
			require.Contains(t, get.Body.String(), `"status":"success"`)
		case rec.Code >= 400 && rec.Code < 500:
			require.NotEmpty(t, bytes.TrimSpace(rec.Body.Bytes()), "a refusal says why")
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
