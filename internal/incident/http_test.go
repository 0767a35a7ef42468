package incident

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// call sends a request to h and returns the status and the envelope's
// data (or error).
func call(t *testing.T, h http.Handler, method, target, body string) (int, json.RawMessage, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, r))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"), rec.Body.String())
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env), rec.Body.String())
	return rec.Code, env.Data, env.Error
}

func TestAPI(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		h := f.m.Handler()
		ctx := t.Context()
		ref, err := f.m.Observe(ctx, group("g1", firing("HighCPU", "web-1", "warning", f.c.t)))
		require.NoError(t, err)
		id := itoa(ref.ID)
		f.c.advance(time.Hour)
		_, err = f.m.Observe(ctx, Group{Key: "g2", Labels: map[string]string{"service": "shop"}, Alerts: []Alert{firing("Down", "shop-1", "critical", f.c.t)}})
		require.NoError(t, err)

		tests := []struct {
			name, method, target, body string
			wantCode                   int
			wantErr                    string // part of the error message
			check                      func(t *testing.T, data json.RawMessage)
		}{
			{name: "list", method: "GET", target: APIPath, wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				var v struct {
					Incidents []Incident `json:"incidents"`
					Total     int        `json:"total"`
				}
				require.NoError(t, json.Unmarshal(data, &v))
				require.Equal(t, 2, v.Total)
				require.Equal(t, "shop", v.Incidents[0].Service)
				require.Contains(t, string(data), `"mtta_seconds":null`)
			}},
			{name: "list filtered", method: "GET", target: APIPath + "?status=open&severity=warning&limit=1&offset=0&from=2026-11-20T00:00:00Z&to=1893456000", wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				require.Contains(t, string(data), `"total":1`)
				require.Contains(t, string(data), `"title":"HighCPU"`)
			}},
			{name: "list unknown status", method: "GET", target: APIPath + "?status=closed", wantCode: 400, wantErr: `unknown status "closed"`},
			{name: "list bad limit", method: "GET", target: APIPath + "?limit=5000", wantCode: 400, wantErr: "limit"},
			{name: "list bad from", method: "GET", target: APIPath + "?from=yesterday", wantCode: 400, wantErr: "from"},
			{name: "get", method: "GET", target: APIPath + "/" + id, wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				var inc Incident
				require.NoError(t, json.Unmarshal(data, &inc))
				require.Len(t, inc.Alerts, 1)
				require.Equal(t, []string{ActionOpened, ActionAlertFiring}, kinds(inc))
			}},
			{name: "get bad id", method: "GET", target: APIPath + "/abc", wantCode: 400, wantErr: `incident id "abc"`},
			{name: "get missing", method: "GET", target: APIPath + "/999", wantCode: 404, wantErr: "no incident has id 999"},
			{name: "ack", method: "POST", target: APIPath + "/" + id + "/ack", body: `{"by":"alice"}`, wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				var inc Incident
				require.NoError(t, json.Unmarshal(data, &inc))
				require.Equal(t, StatusAcknowledged, inc.Status)
				require.Equal(t, "alice", inc.AcknowledgedBy)
				require.Equal(t, 3600.0, *inc.MTTASeconds)
			}},
			{name: "ack again", method: "POST", target: APIPath + "/" + id + "/ack", wantCode: 409, wantErr: "only open incidents"},
			{name: "ack unknown field", method: "POST", target: APIPath + "/" + id + "/ack", body: `{"user":"x"}`, wantCode: 400, wantErr: "user"},
			{name: "ack bad json", method: "POST", target: APIPath + "/" + id + "/ack", body: `{`, wantCode: 400, wantErr: "not a valid JSON"},
			{name: "note", method: "POST", target: APIPath + "/" + id + "/notes", body: `{"by":"bob","text":"restarted the worker"}`, wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				require.Contains(t, string(data), `"message":"restarted the worker"`)
			}},
			{name: "empty note", method: "POST", target: APIPath + "/" + id + "/notes", body: `{"by":"bob"}`, wantCode: 400, wantErr: "empty"},
			{name: "patch", method: "PATCH", target: APIPath + "/" + id, body: `{"severity":"critical","root_cause":"runaway cron","by":"bob"}`, wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				var inc Incident
				require.NoError(t, json.Unmarshal(data, &inc))
				require.Equal(t, SeverityCritical, inc.Severity)
				require.Equal(t, "runaway cron", inc.RootCause)
			}},
			{name: "patch bad severity", method: "PATCH", target: APIPath + "/" + id, body: `{"severity":"urgent"}`, wantCode: 400, wantErr: `unknown severity "urgent"`},
			{name: "patch nothing", method: "PATCH", target: APIPath + "/" + id, body: `{}`, wantCode: 400, wantErr: "nothing to change"},
			{name: "resolve", method: "POST", target: APIPath + "/" + id + "/resolve", wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				var inc Incident
				require.NoError(t, json.Unmarshal(data, &inc))
				require.Equal(t, StatusResolved, inc.Status)
				require.Equal(t, "api", inc.ResolvedBy)
			}},
			{name: "resolve again", method: "POST", target: APIPath + "/" + id + "/resolve", wantCode: 409, wantErr: "already resolved"},
			{name: "reopen", method: "POST", target: APIPath + "/" + id + "/reopen", body: `{"by":"carol"}`, wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				require.Contains(t, string(data), `"status":"open"`)
				require.Contains(t, string(data), `"mttr_seconds":null`)
			}},
			{name: "reopen missing", method: "POST", target: APIPath + "/999/reopen", wantCode: 404},
			{name: "stats", method: "GET", target: APIPath + "/stats?by=service", wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				require.JSONEq(t, `{"by":"service","stats":[
					{"key":"node","incidents":1,"acknowledged":1,"resolved":0,"mtta_seconds":3600,"mttr_seconds":0},
					{"key":"shop","incidents":1,"acknowledged":0,"resolved":0,"mtta_seconds":0,"mttr_seconds":0}]}`, string(data))
			}},
			{name: "stats by month default window", method: "GET", target: APIPath + "/stats?by=month&from=1700000000", wantCode: 200, check: func(t *testing.T, data json.RawMessage) {
				require.Contains(t, string(data), `"key":"2026-11","incidents":2`)
			}},
			{name: "stats bad by", method: "GET", target: APIPath + "/stats?by=team", wantCode: 400, wantErr: `"team"`},
			{name: "stats bad to", method: "GET", target: APIPath + "/stats?to=NaN", wantCode: 400, wantErr: "to"},
			{name: "unknown path", method: "GET", target: APIPath + "/" + id + "/escalate", wantCode: 404, wantErr: "no incident API"},
			{name: "unknown method", method: "DELETE", target: APIPath + "/" + id, wantCode: 404, wantErr: "DELETE"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, data, msg := call(t, h, tt.method, tt.target, tt.body)
				require.Equal(t, tt.wantCode, code, "%s %s", data, msg)
				if tt.wantErr != "" {
					require.Contains(t, msg, tt.wantErr)
				}
				if tt.check != nil {
					tt.check(t, data)
				}
			})
		}
	})
}

func TestAckLink(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		srv := httptest.NewServer(f.m.Handler())
		defer srv.Close()
		ref, err := f.m.Observe(t.Context(), group("g1", firing("HighCPU", "web-1", "critical", f.c.t)))
		require.NoError(t, err)
		u, err := url.Parse(ref.AckURL)
		require.NoError(t, err)
		token := u.Query().Get("token")
		require.Len(t, token, 64)
		link := srv.URL + u.RequestURI()

		get := func(target string) (int, string) {
			resp, err := http.Get(target)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			return resp.StatusCode, string(b)
		}
		post := func(path string, form url.Values) (int, string) {
			resp, err := http.PostForm(srv.URL+path, form)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp.StatusCode, string(b)
		}

		// GET shows the page and a form, twice, and acknowledges nothing.
		for range 2 {
			code, body := get(link)
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, "HighCPU")
			require.Contains(t, body, `<button type="submit">Acknowledge</button>`)
			require.Contains(t, body, `name="token" value="`+token+`"`)
		}
		inc, err := f.m.Get(t.Context(), ref.ID)
		require.NoError(t, err)
		require.Equal(t, StatusOpen, inc.Status)

		// Bad tokens: 403 on GET and POST, nothing acknowledged.
		code, body := get(srv.URL + "/incidents/" + itoa(ref.ID) + "/ack?token=" + strings.Repeat("0", 64))
		require.Equal(t, http.StatusForbidden, code)
		require.Contains(t, body, "Link not valid")
		code, _ = get(srv.URL + "/incidents/" + itoa(ref.ID+1) + "/ack?token=" + token)
		require.Equal(t, http.StatusForbidden, code, "a token is good for its incident only")
		code, _ = post("/incidents/"+itoa(ref.ID)+"/ack", url.Values{"token": {"zz"}})
		require.Equal(t, http.StatusForbidden, code)
		code, _ = get(srv.URL + "/incidents/x/ack?token=" + token)
		require.Equal(t, http.StatusBadRequest, code)
		inc, err = f.m.Get(t.Context(), ref.ID)
		require.NoError(t, err)
		require.Equal(t, StatusOpen, inc.Status)

		// POST with the good token acknowledges, with the name given.
		code, body = post(u.Path, url.Values{"token": {token}, "name": {"  Alice  "}})
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, "acknowledged")
		inc, err = f.m.Get(t.Context(), ref.ID)
		require.NoError(t, err)
		require.Equal(t, StatusAcknowledged, inc.Status)
		require.Equal(t, "Alice", inc.AcknowledgedBy)

		// Again: a clear conflict; the page no longer offers the button.
		code, body = post(u.Path, url.Values{"token": {token}})
		require.Equal(t, http.StatusConflict, code)
		require.Contains(t, body, "only open incidents")
		code, body = get(link)
		require.Equal(t, http.StatusOK, code)
		require.NotContains(t, body, "<button")
		require.Contains(t, body, "Already acknowledged")

		// Without a name the actor is "link".
		ref2, err := f.m.Observe(t.Context(), group("g2", firing("Down", "db", "", f.c.t)))
		require.NoError(t, err)
		u2, err := url.Parse(ref2.AckURL)
		require.NoError(t, err)
		code, _ = post(u2.Path, url.Values{"token": {u2.Query().Get("token")}})
		require.Equal(t, http.StatusOK, code)
		inc, err = f.m.Get(t.Context(), ref2.ID)
		require.NoError(t, err)
		require.Equal(t, ActorLink, inc.AcknowledgedBy)
	})
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		query   string
		want    Filter
		wantErr string
	}{
		{query: "", want: Filter{Limit: DefaultLimit}},
		{query: "status=open,resolved&service=web&host=h1&group_key=k&limit=10&offset=20", want: Filter{Status: "open,resolved", Service: "web", Host: "h1", GroupKey: "k", Limit: 10, Offset: 20}},
		{query: "from=1700000000.5&to=2026-11-20T12:00:00%2B01:00", want: Filter{Limit: DefaultLimit, From: time.UnixMilli(1700000000500).UTC(), To: time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)}},
		{query: "status=open,", wantErr: `unknown status ""`},
		{query: "severity=high", wantErr: `unknown severity "high"`},
		{query: "limit=0", wantErr: "limit"},
		{query: "offset=-1", wantErr: "offset"},
		{query: "from=1e400", wantErr: "from"},
		{query: "from=2000&to=1000", wantErr: "from must be before to"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			got, err := ParseFilter(q)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalid)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzIncidentFilter feeds arbitrary query strings to the list filter: it
// must not panic, and what it accepts must be in range and make a valid
// query on the database.
func FuzzIncidentFilter(f *testing.F) {
	for _, s := range []string{
		"", "status=open&severity=critical&limit=5&offset=2", "from=1700000000&to=2026-11-20T12:00:00Z",
		"status=open,acknowledged,resolved", "limit=1001", "from=NaN", "to=-1", "status=%00", "offset=99999999999999999999",
	} {
		f.Add(s)
	}
	db := statetest.Open(f, state.DriverSQLite)
	fx := fixture{c: &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}}
	m, err := New(f.Context(), Options{DB: db, Logger: statetest.Logger(f), Registerer: prometheus.NewRegistry(), Now: fx.c.now})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := ParseFilter(q)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		require.True(t, flt.Limit >= 1 && flt.Limit <= MaxLimit, flt.Limit)
		require.GreaterOrEqual(t, flt.Offset, 0)
		_, _, err = m.List(t.Context(), flt)
		require.NoError(t, err)
	})
}
