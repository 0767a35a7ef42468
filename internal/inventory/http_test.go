package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

func TestHeartbeatHandler(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 0)
		h := f.inv.HeartbeatHandler()

		valid := mustJSON(t, heartbeat("web-1"))
		noInstance := heartbeat("web-1")
		noInstance.Instance = ""
		badLabel := heartbeat("web-1")
		badLabel.Labels = map[string]string{"bad-name": "x"}
		for _, tc := range []struct {
			name     string
			method   string
			body     []byte
			wantCode int
			wantBody string
		}{
			{"valid", http.MethodPost, valid, http.StatusOK, `"server_time":"2025-03-10T09:00:00Z"`},
			{"not JSON", http.MethodPost, []byte("hello"), http.StatusBadRequest, "heartbeat is not valid JSON: invalid character 'h'"},
			{"truncated JSON", http.MethodPost, valid[:20], http.StatusBadRequest, "heartbeat is not valid JSON: unexpected end of JSON input"},
			{"wrong type", http.MethodPost, []byte(`{"instance":"a","cpus":"four"}`), http.StatusBadRequest, "heartbeat is not valid JSON: json: cannot unmarshal string into Go struct field Heartbeat.cpus of type int"},
			{"no instance", http.MethodPost, mustJSON(t, noInstance), http.StatusBadRequest, "invalid heartbeat: instance is required"},
			{"bad label", http.MethodPost, mustJSON(t, badLabel), http.StatusBadRequest, `invalid heartbeat: invalid label name "bad-name"`},
			{"too large", http.MethodPost, bytes.Repeat([]byte(" "), MaxHeartbeatSize+1), http.StatusRequestEntityTooLarge, "heartbeat larger than 65536 bytes"},
			{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed, "heartbeats are sent with POST"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := request(t, h, tc.method, agentapi.HeartbeatPath, tc.body)
				require.Equal(t, tc.wantCode, code, string(body))
				require.Contains(t, string(body), tc.wantBody)
			})
		}
		host, _ := f.host("web-1")
		require.Equal(t, "192.0.2.10", host.RemoteAddr)
		f.requireHeartbeats(1, 6, 0)
	})
}

func TestAPI(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		api := f.inv.APIHandler()
		labels := map[string]map[string]string{
			"web-1":  {"env": "prod", "role": "web"},
			"db-1":   {"env": "prod", "role": "db"},
			"web-2":  {"env": "staging", "role": "web"},
			"edge/1": nil,
		}
		send := func(instance string, change func(hb *agentapi.Heartbeat)) {
			hb := heartbeat(instance)
			hb.Labels = labels[instance]
			if change != nil {
				change(&hb)
			}
			f.heartbeat(hb)
		}
		reboot := func(hb *agentapi.Heartbeat) {
			hb.BootTime = t0.Add(30 * time.Second)
			hb.AgentStartTime = t0.Add(45 * time.Second)
		}
		for _, inst := range []string{"web-1", "db-1", "web-2", "edge/1"} {
			send(inst, nil)
		}
		f.clock.Advance(time.Minute)
		send("web-1", reboot)
		send("db-1", nil)
		f.clock.Advance(2 * time.Minute)
		send("web-1", reboot)
		send("db-1", nil)
		send("edge/1", nil)
		f.sweep() // web-2 goes down

		instances := func(data json.RawMessage) []string {
			var hosts []map[string]any
			require.NoError(t, json.Unmarshal(data, &hosts))
			out := []string{}
			for _, h := range hosts {
				out = append(out, h["instance"].(string))
			}
			return out
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"db-1", "edge/1", "web-1", "web-2"}},
			{"?status=up", []string{"db-1", "edge/1", "web-1"}},
			{"?status=down", []string{"web-2"}},
			{"?label=env=prod", []string{"db-1", "web-1"}},
			{"?label=role=db", []string{"db-1"}},
			{"?label=env=prod&label=role=web", []string{"web-1"}},
			{"?label=role=web&status=down", []string{"web-2"}},
			{"?label=env=prod&label=env=prod", []string{"db-1", "web-1"}},
			{"?label=env=nowhere", []string{}},
			{"?label=url=http://x/?a=b", []string{}},
		} {
			t.Run("list"+tc.query, func(t *testing.T) {
				code, resp := getAPI(t, api, "/api/v1/hosts"+tc.query)
				require.Equal(t, http.StatusOK, code)
				require.Equal(t, "success", resp.Status)
				require.Equal(t, tc.want, instances(resp.Data))
			})
		}

		// The exact shape of one host in the list.
		_, resp := getAPI(t, api, "/api/v1/hosts?label=role=db")
		var list []map[string]any
		require.NoError(t, json.Unmarshal(resp.Data, &list))
		require.Len(t, list, 1)
		require.Equal(t, map[string]any{
			"instance":                   "db-1",
			"hostname":                   "db-1",
			"os":                         "Debian GNU/Linux 12 (bookworm)",
			"os_id":                      "debian",
			"os_version":                 "12",
			"kernel":                     "6.1.0-18-amd64",
			"arch":                       "x86_64",
			"cpus":                       4.0,
			"memory_bytes":               float64(8 << 30),
			"agent_version":              "1.0.0",
			"labels":                     map[string]any{"env": "prod", "role": "db"},
			"boot_time":                  "2025-03-07T09:00:00Z",
			"agent_start_time":           "2025-03-07T09:00:20.123Z",
			"first_seen":                 "2025-03-10T09:00:00Z",
			"last_seen":                  "2025-03-10T09:03:00Z",
			"status":                     "up",
			"status_since":               "2025-03-10T09:00:00Z",
			"remote_addr":                "192.0.2.10",
			"heartbeat_interval_seconds": 15.0,
		}, list[0])

		t.Run("one host with events", func(t *testing.T) {
			code, resp := getAPI(t, api, "/api/v1/hosts/web-1")
			require.Equal(t, http.StatusOK, code)
			var data struct {
				Host   map[string]any   `json:"host"`
				Events []map[string]any `json:"events"`
			}
			require.NoError(t, json.Unmarshal(resp.Data, &data))
			require.Equal(t, "web-1", data.Host["instance"])
			require.Equal(t, "2025-03-10T09:00:30Z", data.Host["boot_time"])
			require.Len(t, data.Events, 2)
			// Newest first. The reboot's time is the boot time, 09:00:30,
			// although the server saw it at 09:01.
			require.Equal(t, []any{"reboot", "registered"}, []any{data.Events[0]["kind"], data.Events[1]["kind"]})
			reboot := data.Events[0]
			require.Equal(t, "2025-03-10T09:00:30Z", reboot["time"])
			require.Equal(t, "host rebooted at 2025-03-10T09:00:30Z (previous boot 2025-03-07T09:00:00Z); agent started at 2025-03-10T09:00:45Z", reboot["message"])
			require.Equal(t, map[string]any{
				"boot_time":                 "2025-03-10T09:00:30Z",
				"previous_boot_time":        "2025-03-07T09:00:00Z",
				"kernel":                    "6.1.0-18-amd64",
				"previous_kernel":           "6.1.0-18-amd64",
				"agent_start_time":          "2025-03-10T09:00:45Z",
				"previous_agent_start_time": "2025-03-07T09:00:20.123Z",
				"agent_version":             "1.0.0",
				"previous_agent_version":    "1.0.0",
			}, reboot["details"])
			for _, ev := range data.Events {
				require.ElementsMatch(t, []string{"time", "kind", "message", "details"}, slices.Collect(maps.Keys(ev)))
			}
		})
		t.Run("limit", func(t *testing.T) {
			code, resp := getAPI(t, api, "/api/v1/hosts/web-2?limit=1")
			require.Equal(t, http.StatusOK, code)
			var data struct {
				Events []map[string]any `json:"events"`
			}
			require.NoError(t, json.Unmarshal(resp.Data, &data))
			require.Len(t, data.Events, 1)
			require.Equal(t, "down", data.Events[0]["kind"])
		})
		t.Run("instance with a slash", func(t *testing.T) {
			code, resp := getAPI(t, api, "/api/v1/hosts/edge%2F1")
			require.Equal(t, http.StatusOK, code)
			require.Contains(t, string(resp.Data), `"instance":"edge/1"`)
		})

		for _, tc := range []struct {
			name, method, target string
			wantCode             int
			wantType, wantError  string
		}{
			{"unknown host", http.MethodGet, "/api/v1/hosts/nope", http.StatusNotFound, "not_found", `no host with instance "nope" has sent a heartbeat`},
			{"no instance", http.MethodGet, "/api/v1/hosts/", http.StatusNotFound, "not_found", "no instance in the path"},
			{"bad status", http.MethodGet, "/api/v1/hosts?status=sideways", http.StatusBadRequest, "bad_data", `invalid status "sideways": use up or down`},
			{"bad label", http.MethodGet, "/api/v1/hosts?label=env", http.StatusBadRequest, "bad_data", `invalid label filter "env": use label=name=value`},
			{"contradictory labels", http.MethodGet, "/api/v1/hosts?label=env=a&label=env=b", http.StatusBadRequest, "bad_data", `label "env" is given twice`},
			{"bad limit", http.MethodGet, "/api/v1/hosts/web-1?limit=0", http.StatusBadRequest, "bad_data", `invalid limit "0"`},
			{"huge limit", http.MethodGet, "/api/v1/hosts/web-1?limit=100000", http.StatusBadRequest, "bad_data", "from 1 to 10000"},
			{"POST", http.MethodPost, "/api/v1/hosts", http.StatusMethodNotAllowed, "bad_data", "read with GET"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := request(t, api, tc.method, tc.target, nil)
				require.Equal(t, tc.wantCode, code, string(body))
				var resp apiResponse
				require.NoError(t, json.Unmarshal(body, &resp))
				require.Equal(t, "error", resp.Status)
				require.Equal(t, tc.wantType, resp.ErrorType)
				require.Contains(t, resp.Error, tc.wantError)
			})
		}
	})
}

// TestHeartbeatsOverHTTP posts heartbeats of 50 hosts at once through a
// real HTTP server, as agents do.
func TestHeartbeatsOverHTTP(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 0)
		mux := http.NewServeMux()
		mux.Handle(agentapi.HeartbeatPath, f.inv.HeartbeatHandler())
		mux.Handle("/api/v1/hosts", f.inv.APIHandler())
		srv := httptest.NewServer(mux)
		defer srv.Close()

		const hosts, beats = 50, 3
		var wg sync.WaitGroup
		errs := make(chan error, hosts*beats)
		for i := range hosts {
			wg.Go(func() {
				hb := heartbeat(fmt.Sprintf("node-%02d", i))
				for range beats {
					resp, err := srv.Client().Post(srv.URL+agentapi.HeartbeatPath, "application/json", bytes.NewReader(mustJSON(t, hb)))
					if err != nil {
						errs <- err
						continue
					}
					var out bytes.Buffer
					_, _ = out.ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(out.String()))
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		resp, err := srv.Client().Get(srv.URL + "/api/v1/hosts?status=up")
		require.NoError(t, err)
		defer resp.Body.Close()
		var body apiResponse
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		var list []json.RawMessage
		require.NoError(t, json.Unmarshal(body.Data, &list))
		require.Len(t, list, hosts)
		f.requireHeartbeats(150, 0, 0)
	})
}
