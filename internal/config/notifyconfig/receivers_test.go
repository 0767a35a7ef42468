package notifyconfig

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	amtemplate "github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"
)

func load(t *testing.T, in string) (Extensions, error) {
	t.Helper()
	var e Extensions
	err := yaml.UnmarshalStrict([]byte(in), &e)
	return e, err
}

func TestGood(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		check func(t *testing.T, e Extensions)
	}{
		{
			name: "empty",
			in:   `{}`,
			check: func(t *testing.T, e Extensions) {
				require.True(t, e.Empty())
			},
		},
		{
			name: "twilio defaults",
			in: `
twilio_configs:
  - account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: secret-token
    from: "+27110000000"
    to: ["+27820000001", "+27820000002"]
`,
			check: func(t *testing.T, e Extensions) {
				require.False(t, e.Empty())
				require.Len(t, e.Twilio, 1)
				c := e.Twilio[0]
				require.True(t, c.SendResolved())
				require.Equal(t, DefaultTwilioAPIURL, c.APIURL)
				require.Equal(t, DefaultSMSMessage, c.Message)
				require.Equal(t, commoncfg.Secret("secret-token"), c.AuthToken)
				require.Equal(t, []string{"+27820000001", "+27820000002"}, c.To)
				require.Equal(t, commoncfg.DefaultHTTPClientConfig, *c.HTTPConfig)
			},
		},
		{
			name: "twilio messaging service, token file, own url and message",
			in: `
twilio_configs:
  - account_sid: AC0123
    auth_token_file: /run/secrets/twilio
    messaging_service_sid: MG0123
    to: ["+27820000001"]
    api_url: http://127.0.0.1:8080/
    message: '{{ .Status }}'
    send_resolved: false
    http_config:
      proxy_url: http://proxy:3128
`,
			check: func(t *testing.T, e Extensions) {
				c := e.Twilio[0]
				require.False(t, c.SendResolved())
				require.Equal(t, "http://127.0.0.1:8080", c.APIURL, "trailing slash trimmed")
				require.Equal(t, "/run/secrets/twilio", c.AuthTokenFile)
				require.Equal(t, "MG0123", c.MessagingServiceSID)
				require.Equal(t, "{{ .Status }}", c.Message)
				require.Equal(t, "http://proxy:3128", c.HTTPConfig.ProxyURL.String())
			},
		},
		{
			name: "sms gateway",
			in: `
sms_configs:
  - url: https://sms.example.com/api/send?to={{ .To | urlquery }}
    headers: {Authorization: "Bearer xyz", Content-Type: application/json}
    body: '{"to":"{{ .To }}","text":{{ .Message | toJson }}}'
    to: ["+27820000001"]
    max_length: 160
`,
			check: func(t *testing.T, e Extensions) {
				c := e.SMS[0]
				require.Equal(t, http.MethodPost, c.Method)
				require.True(t, c.SendResolved())
				require.Equal(t, 160, c.MaxLength)
				require.Equal(t, DefaultSMSMessage, c.Message)
				require.Equal(t, commoncfg.Secret("Bearer xyz"), c.Headers["Authorization"])
				require.NotNil(t, c.HTTPConfig)
			},
		},
		{
			name: "sms gateway GET, lower-case method",
			in: `
sms_configs:
  - url: http://gw.local/send?key=abc
    method: get
    to: ["0820000001"]
`,
			check: func(t *testing.T, e Extensions) {
				require.Equal(t, http.MethodGet, e.SMS[0].Method)
			},
		},
		{
			name: "forward",
			in: `
alertmanager_configs:
  - url: http://am.example.com:9093
  - url: https://am.example.com/prefix/
    send_resolved: false
    http_config:
      basic_auth: {username: u, password: p}
`,
			check: func(t *testing.T, e Extensions) {
				require.Len(t, e.Forward, 2)
				require.True(t, e.Forward[0].SendResolved())
				require.False(t, e.Forward[1].SendResolved())
				require.Equal(t, "u", e.Forward[1].HTTPConfig.BasicAuth.Username)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := load(t, tc.in)
			require.NoError(t, err)
			tc.check(t, e)
		})
	}
}

func TestBad(t *testing.T) {
	const twilioOK = `
  - account_sid: AC0123
    auth_token: s3cr3t-value
    from: "+27110000000"
    to: ["+27820000001"]
`
	for _, tc := range []struct {
		name string
		in   string
		err  string
	}{
		{
			name: "twilio without to",
			in:   "twilio_configs:\n  - {account_sid: AC1, auth_token: s3cr3t-value, from: '+1'}",
			err:  `twilio_configs: "to" needs at least one phone number`,
		},
		{
			name: "twilio empty recipient",
			in:   "twilio_configs:\n  - {account_sid: AC1, auth_token: s3cr3t-value, from: '+1', to: ['+2', ' ']}",
			err:  `twilio_configs: to[1] is empty`,
		},
		{
			name: "twilio duplicate recipient",
			in:   "twilio_configs:\n  - {account_sid: AC1, auth_token: s3cr3t-value, from: '+1', to: ['+2', '+2']}",
			err:  `twilio_configs: to: "+2" is listed twice`,
		},
		{
			name: "twilio without sender",
			in:   "twilio_configs:\n  - {account_sid: AC1, auth_token: s3cr3t-value, to: ['+2']}",
			err:  `twilio_configs: one of from or messaging_service_sid is required`,
		},
		{
			name: "twilio bad messaging service",
			in:   "twilio_configs:\n  - {account_sid: AC1, auth_token: s3cr3t-value, messaging_service_sid: XX1, to: ['+2']}",
			err:  `twilio_configs: "messaging_service_sid" must start with MG`,
		},
		{
			name: "twilio token and token file",
			in:   "twilio_configs:\n  - {account_sid: AC1, auth_token: s3cr3t-value, auth_token_file: /x, from: '+1', to: ['+2']}",
			err:  `twilio_configs: auth_token and auth_token_file are mutually exclusive`,
		},
		{
			name: "twilio no token",
			in:   "twilio_configs:\n  - {account_sid: AC1, from: '+1', to: ['+2']}",
			err:  `twilio_configs: one of auth_token or auth_token_file is required`,
		},
		{
			name: "twilio no account",
			in:   "twilio_configs:\n  - {auth_token: s3cr3t-value, from: '+1', to: ['+2']}",
			err:  `twilio_configs: "account_sid" is required`,
		},
		{
			name: "twilio api key instead of account",
			in:   "twilio_configs:\n  - {account_sid: SK1, auth_token: s3cr3t-value, from: '+1', to: ['+2']}",
			err:  `twilio_configs: "account_sid" must start with AC`,
		},
		{
			name: "twilio bad api_url",
			in:   "twilio_configs:\n  - {api_url: 'ftp://x', account_sid: AC1, auth_token: s3cr3t-value, from: '+1', to: ['+2']}",
			err:  `twilio_configs: api_url: scheme must be http or https`,
		},
		{
			name: "twilio bad message template",
			in:   "twilio_configs:\n  - {message: '{{ .Status ', account_sid: AC1, auth_token: s3cr3t-value, from: '+1', to: ['+2']}",
			err:  `twilio_configs: message: template does not parse`,
		},
		{
			name: "twilio unknown function",
			in:   "twilio_configs:\n  - {message: '{{ nosuchfunc .Status }}', account_sid: AC1, auth_token: s3cr3t-value, from: '+1', to: ['+2']}",
			err:  `function "nosuchfunc" not defined`,
		},
		{
			name: "twilio unknown key",
			in:   "twilio_configs:" + twilioOK + "    sender: x\n",
			err:  `field sender not found`,
		},
		{
			name: "twilio bad http_config",
			in:   "twilio_configs:" + twilioOK + "    http_config: {bearer_token: a, bearer_token_file: b}\n",
			// Prometheus's HTTPClientConfig validates itself while decoding.
			err: `at most one of bearer_token & bearer_token_file must be configured`,
		},
		{
			name: "sms no url",
			in:   "sms_configs:\n  - {to: ['+2']}",
			err:  `sms_configs: "url" is required`,
		},
		{
			name: "sms url does not parse",
			in:   "sms_configs:\n  - {url: 'http://exa mple.com/key=s3cr3t-value', to: ['+2']}",
			err:  `sms_configs: url: parse error: invalid character " " in host name`,
		},
		{
			name: "sms url template does not parse",
			in:   "sms_configs:\n  - {url: 'http://x/?to={{ .To ', to: ['+2']}",
			err:  `sms_configs: url: template does not parse`,
		},
		{
			name: "sms url without scheme",
			in:   "sms_configs:\n  - {url: 'sms.example.com/send', to: ['+2']}",
			err:  `sms_configs: url: must start with http:// or https://`,
		},
		{
			name: "sms method",
			in:   "sms_configs:\n  - {url: 'http://x/', method: DELETE, to: ['+2']}",
			err:  `sms_configs: method: "DELETE" is not one of GET, POST or PUT`,
		},
		{
			name: "sms GET with body",
			in:   "sms_configs:\n  - {url: 'http://x/', method: GET, body: x, to: ['+2']}",
			err:  `sms_configs: body: a GET request has no body`,
		},
		{
			name: "sms header template",
			in:   "sms_configs:\n  - {url: 'http://x/', headers: {X-Key: '{{ end }}'}, to: ['+2']}",
			err:  `sms_configs: headers.X-Key: template does not parse`,
		},
		{
			name: "sms header name",
			in:   "sms_configs:\n  - {url: 'http://x/', headers: {'Bad Name': x}, to: ['+2']}",
			err:  `sms_configs: headers: "Bad Name" is not a valid header name`,
		},
		{
			name: "sms body template",
			in:   "sms_configs:\n  - {url: 'http://x/', body: '{{ if }}', to: ['+2']}",
			err:  `sms_configs: body: template does not parse`,
		},
		{
			name: "sms no recipients",
			in:   "sms_configs:\n  - {url: 'http://x/', to: []}",
			err:  `sms_configs: "to" needs at least one phone number`,
		},
		{
			name: "sms negative max_length",
			in:   "sms_configs:\n  - {url: 'http://x/', to: ['+2'], max_length: -1}",
			err:  `sms_configs: max_length: -1 is negative`,
		},
		{
			name: "forward no url",
			in:   "alertmanager_configs:\n  - {send_resolved: true}",
			err:  `alertmanager_configs: "url" is required`,
		},
		{
			name: "forward url with credentials",
			in:   "alertmanager_configs:\n  - {url: 'http://u:s3cr3t-value@am:9093'}",
			err:  `alertmanager_configs: url: credentials belong in http_config.basic_auth`,
		},
		{
			name: "forward url with query",
			in:   "alertmanager_configs:\n  - {url: 'http://am:9093/?x=1'}",
			err:  `alertmanager_configs: url: a base URL has no query or fragment`,
		},
		{
			name: "forward url without host",
			in:   "alertmanager_configs:\n  - {url: 'http:///api'}",
			err:  `alertmanager_configs: url: no host`,
		},
		{
			name: "forward url parse error",
			in:   "alertmanager_configs:\n  - {url: 'http://am:port/'}",
			err:  `alertmanager_configs: url: parse error: invalid port`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.in)
			require.Error(t, err)
			require.ErrorContains(t, err, tc.err)
			require.NotContains(t, err.Error(), "s3cr3t-value", "a secret in an error")
		})
	}
}

// The default SMS text renders short, one line, from Alertmanager's own
// template data.
func TestDefaultSMSMessage(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	require.NoError(t, err)
	tmpl.ExternalURL, err = url.Parse("http://monitor.example.com")
	require.NoError(t, err)
	now := time.Now()
	firing := func(name, instance, summary string) *alert.Alert {
		return &alert.Alert{Alert: model.Alert{
			Labels:      model.LabelSet{"alertname": model.LabelValue(name), "instance": model.LabelValue(instance)},
			Annotations: model.LabelSet{"summary": model.LabelValue(summary)},
			StartsAt:    now.Add(-time.Hour),
		}}
	}
	resolved := func(a *alert.Alert) *alert.Alert {
		a.EndsAt = now.Add(-time.Minute)
		return a
	}
	for _, tc := range []struct {
		name   string
		group  model.LabelSet
		alerts []*alert.Alert
		want   string
	}{
		{
			name:   "one firing",
			alerts: []*alert.Alert{firing("HostHighCPU", "web1", "CPU above 85% for 10m")},
			want:   "[FIRING:1] HostHighCPU web1 - CPU above 85% for 10m",
		},
		{
			name: "two firing, different instances",
			alerts: []*alert.Alert{
				firing("HostHighCPU", "web1", "CPU above 85% on web1"),
				firing("HostHighCPU", "web2", "CPU above 85% on web2"),
			},
			want: "[FIRING:2] HostHighCPU - CPU above 85% on web1",
		},
		{
			name: "one of two resolved",
			alerts: []*alert.Alert{
				firing("HostHighCPU", "web1", "CPU high"),
				resolved(firing("HostHighCPU", "web2", "CPU high")),
			},
			want: "[FIRING:1] HostHighCPU - CPU high",
		},
		{
			name:   "resolved",
			alerts: []*alert.Alert{resolved(firing("DiskFull", "db1", "/var is 95% full"))},
			want:   "[RESOLVED] DiskFull db1 - /var is 95% full",
		},
		{
			name:  "mixed alert names, grouped by team",
			group: model.LabelSet{"team": "ops"},
			alerts: []*alert.Alert{
				firing("DiskFull", "db1", "disk"),
				firing("HostDown", "db1", "down"),
			},
			want: "[FIRING:2] DiskFull db1 - disk",
		},
		{
			name:   "no summary",
			alerts: []*alert.Alert{firing("Watchdog", "", "")},
			want:   "[FIRING:1] Watchdog",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tmpl.Data("oncall", tc.group, nil, "", tc.alerts...)
			got, err := tmpl.ExecuteTextString(DefaultSMSMessage, data)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
