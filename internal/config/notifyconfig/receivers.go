// Package notifyconfig defines the receiver types that saypro-monitor adds
// to an Alertmanager receiver entry: twilio_configs, sms_configs and
// alertmanager_configs. They sit next to Alertmanager's own *_configs keys;
// the server strips these three keys before Alertmanager's config.Load sees
// the receiver, decodes them into Extensions and appends the matching
// notifiers to the receiver's integrations.
//
// Like Alertmanager's own config types, each type applies its defaults and
// validates itself in UnmarshalYAML. The package is a configuration leaf:
// data plus validation, no I/O (a secret named by auth_token_file is read
// when a notification is sent, so that it can be rotated), and no imports
// of other packages of this module.
package notifyconfig

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	tmpltext "text/template"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amtemplate "github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"golang.org/x/net/http/httpguts"
)

// The keys under which the extension receivers appear in a receiver entry.
const (
	KeyTwilio  = "twilio_configs"
	KeySMS     = "sms_configs"
	KeyForward = "alertmanager_configs"
)

// DefaultTwilioAPIURL is the base URL of Twilio's REST API.
const DefaultTwilioAPIURL = "https://api.twilio.com"

// DefaultSMSMessage is the default text of an SMS (Twilio and SMS gateway).
// It is an Alertmanager notification template executed against
// template.Data, and renders for example
//
//	[FIRING:2] HostHighCPU web1 - CPU above 85% for 10m
//	[RESOLVED] HostHighCPU web1 - CPU above 85% for 10m
//
// It uses ASCII only so that the text stays in the GSM-7 alphabet, where a
// segment holds 160 characters rather than 70.
const DefaultSMSMessage = `
{{- if eq .Status "firing" }}[FIRING:{{ len .Alerts.Firing }}]{{ else }}[RESOLVED]{{ end }}
{{- if .CommonLabels.alertname }} {{ .CommonLabels.alertname }}
{{- else if .GroupLabels.alertname }} {{ .GroupLabels.alertname }}
{{- else if .Alerts }} {{ (index .Alerts 0).Labels.alertname }}{{ end }}
{{- with .CommonLabels.instance }} {{ . }}{{ end }}
{{- if .CommonAnnotations.summary }} - {{ .CommonAnnotations.summary }}
{{- else if .Alerts }}{{ with (index .Alerts 0).Annotations.summary }} - {{ . }}{{ end }}{{ end }}`

var (
	// DefaultTwilioConfig holds the defaults of a twilio_configs entry.
	DefaultTwilioConfig = TwilioConfig{
		NotifierConfig: amcommoncfg.NotifierConfig{VSendResolved: true},
		APIURL:         DefaultTwilioAPIURL,
		Message:        DefaultSMSMessage,
	}

	// DefaultSMSConfig holds the defaults of an sms_configs entry.
	DefaultSMSConfig = SMSConfig{
		NotifierConfig: amcommoncfg.NotifierConfig{VSendResolved: true},
		Method:         http.MethodPost,
		Message:        DefaultSMSMessage,
	}

	// DefaultForwardConfig holds the defaults of an alertmanager_configs
	// entry.
	DefaultForwardConfig = ForwardConfig{
		NotifierConfig: amcommoncfg.NotifierConfig{VSendResolved: true},
	}
)

// Extensions holds the extension receivers of one Alertmanager receiver.
type Extensions struct {
	Twilio  []*TwilioConfig  `yaml:"twilio_configs,omitempty"`
	SMS     []*SMSConfig     `yaml:"sms_configs,omitempty"`
	Forward []*ForwardConfig `yaml:"alertmanager_configs,omitempty"`
}

// Empty reports whether e configures no receiver at all.
func (e Extensions) Empty() bool {
	return len(e.Twilio) == 0 && len(e.SMS) == 0 && len(e.Forward) == 0
}

// TwilioConfig sends SMS through Twilio's Messages API, one message per
// recipient.
type TwilioConfig struct {
	amcommoncfg.NotifierConfig `yaml:",inline"`

	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`

	// APIURL is the base URL of the API, without the 2010-04-01 path.
	APIURL     string `yaml:"api_url,omitempty"`
	AccountSID string `yaml:"account_sid"`
	// Exactly one of AuthToken and AuthTokenFile is set. The file is read
	// at every notification.
	AuthToken     commoncfg.Secret `yaml:"auth_token,omitempty"`
	AuthTokenFile string           `yaml:"auth_token_file,omitempty"`
	// At least one of From and MessagingServiceSID is set; both are sent
	// when both are set.
	From                string   `yaml:"from,omitempty"`
	MessagingServiceSID string   `yaml:"messaging_service_sid,omitempty"`
	To                  []string `yaml:"to"`
	// Message is a template executed against Alertmanager's template.Data.
	Message string `yaml:"message,omitempty"`
}

// UnmarshalYAML applies the defaults and validates c.
func (c *TwilioConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultTwilioConfig
	type plain TwilioConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("%s: %w", KeyTwilio, err)
	}
	return nil
}

func (c *TwilioConfig) validate() error {
	if c.APIURL == "" {
		c.APIURL = DefaultTwilioAPIURL
	}
	if err := checkBaseURL("api_url", c.APIURL); err != nil {
		return err
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	switch {
	case c.AccountSID == "":
		return errors.New(`"account_sid" is required`)
	case !strings.HasPrefix(c.AccountSID, "AC"):
		return errors.New(`"account_sid" must start with AC (it is the account's SID, not an API key)`)
	case strings.ContainsAny(c.AccountSID, "/?#% "):
		return errors.New(`"account_sid" contains characters that cannot be in a SID`)
	}
	switch {
	case c.AuthToken != "" && c.AuthTokenFile != "":
		return errors.New("auth_token and auth_token_file are mutually exclusive")
	case c.AuthToken == "" && c.AuthTokenFile == "":
		return errors.New("one of auth_token or auth_token_file is required")
	}
	if c.From == "" && c.MessagingServiceSID == "" {
		return errors.New("one of from or messaging_service_sid is required")
	}
	if c.MessagingServiceSID != "" && !strings.HasPrefix(c.MessagingServiceSID, "MG") {
		return errors.New(`"messaging_service_sid" must start with MG`)
	}
	if err := checkRecipients(c.To); err != nil {
		return err
	}
	if c.Message == "" {
		c.Message = DefaultSMSMessage
	}
	if err := checkTemplate("message", c.Message); err != nil {
		return err
	}
	return checkHTTPConfig(&c.HTTPConfig)
}

// SMSConfig sends SMS through any HTTP gateway. URL, header values and body
// are templates executed, once per recipient, against Alertmanager's
// template.Data extended with .To (the recipient) and .Message (the
// rendered message).
type SMSConfig struct {
	amcommoncfg.NotifierConfig `yaml:",inline"`

	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`

	// URL is a Secret because gateways often take their API key in the
	// query string.
	URL    commoncfg.Secret `yaml:"url"`
	Method string           `yaml:"method,omitempty"`
	// Headers' values are Secrets because they often hold API keys.
	Headers map[string]commoncfg.Secret `yaml:"headers,omitempty"`
	// Body is sent as it renders; empty means no body.
	Body    string   `yaml:"body,omitempty"`
	To      []string `yaml:"to"`
	Message string   `yaml:"message,omitempty"`
	// MaxLength truncates .Message to this many runes (0: no limit).
	MaxLength int `yaml:"max_length,omitempty"`
}

// UnmarshalYAML applies the defaults and validates c.
func (c *SMSConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultSMSConfig
	type plain SMSConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("%s: %w", KeySMS, err)
	}
	return nil
}

func (c *SMSConfig) validate() error {
	if err := checkTemplateURL("url", string(c.URL)); err != nil {
		return err
	}
	c.Method = strings.ToUpper(c.Method)
	switch c.Method {
	case "":
		c.Method = http.MethodPost
	case http.MethodPost, http.MethodPut, http.MethodGet:
	default:
		return fmt.Errorf("method: %q is not one of GET, POST or PUT", c.Method)
	}
	if c.Method == http.MethodGet && c.Body != "" {
		return errors.New("body: a GET request has no body; use POST or put the fields in url")
	}
	for name, value := range c.Headers {
		if !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("headers: %q is not a valid header name", name)
		}
		if err := checkTemplate("headers."+name, string(value)); err != nil {
			return err
		}
	}
	if err := checkTemplate("body", c.Body); err != nil {
		return err
	}
	if err := checkRecipients(c.To); err != nil {
		return err
	}
	if c.Message == "" {
		c.Message = DefaultSMSMessage
	}
	if err := checkTemplate("message", c.Message); err != nil {
		return err
	}
	if c.MaxLength < 0 {
		return fmt.Errorf("max_length: %d is negative (0 means no limit)", c.MaxLength)
	}
	return checkHTTPConfig(&c.HTTPConfig)
}

// ForwardConfig forwards the alerts to another Alertmanager through its
// API v2: POST <url>/api/v2/alerts.
type ForwardConfig struct {
	amcommoncfg.NotifierConfig `yaml:",inline"`

	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`

	// URL is the other Alertmanager's base URL, including any path prefix
	// it is served under.
	URL string `yaml:"url"`
}

// UnmarshalYAML applies the defaults and validates c.
func (c *ForwardConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultForwardConfig
	type plain ForwardConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("%s: %w", KeyForward, err)
	}
	return nil
}

func (c *ForwardConfig) validate() error {
	if err := checkBaseURL("url", c.URL); err != nil {
		return err
	}
	return checkHTTPConfig(&c.HTTPConfig)
}

// checkBaseURL checks an absolute http(s) URL with no credentials, query
// or fragment. Parse errors leave the URL out, in case it holds a secret.
func checkBaseURL(field, s string) error {
	if s == "" {
		return fmt.Errorf("%q is required", field)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: parse error: %w", field, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: scheme must be http or https", field)
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host", field)
	}
	if u.User != nil {
		return fmt.Errorf("%s: credentials belong in http_config.basic_auth, not in the URL", field)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s: a base URL has no query or fragment", field)
	}
	return nil
}

// checkTemplateURL checks a URL that may contain template actions: its
// scheme must be literal, and without actions it must parse completely.
func checkTemplateURL(field, s string) error {
	if s == "" {
		return fmt.Errorf("%q is required", field)
	}
	if err := checkTemplate(field, s); err != nil {
		return err
	}
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return fmt.Errorf("%s: must start with http:// or https://", field)
	}
	if strings.Contains(s, "{{") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: parse error: %w", field, unwrapURLError(err))
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host", field)
	}
	return nil
}

// unwrapURLError drops the URL that url.Parse puts in its errors.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func checkRecipients(to []string) error {
	if len(to) == 0 {
		return errors.New(`"to" needs at least one phone number`)
	}
	seen := make(map[string]bool, len(to))
	for i, t := range to {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("to[%d] is empty", i)
		}
		if seen[t] {
			return fmt.Errorf("to: %q is listed twice", t)
		}
		seen[t] = true
	}
	return nil
}

// checkTemplate parses text the way Alertmanager's template package parses
// a text template, with its functions. Execution errors (such as a
// reference to an undefined named template) show only when it runs.
func checkTemplate(field, text string) error {
	_, err := tmpltext.New(field).
		Option("missingkey=zero").
		Funcs(tmpltext.FuncMap(amtemplate.DefaultFuncs)).
		Parse(text)
	if err != nil {
		return fmt.Errorf("%s: template does not parse: %w", field, err)
	}
	return nil
}

// checkHTTPConfig sets a missing http_config to the default and validates
// it.
func checkHTTPConfig(hc **commoncfg.HTTPClientConfig) error {
	if *hc == nil {
		def := commoncfg.DefaultHTTPClientConfig
		*hc = &def
	}
	if err := (*hc).Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return nil
}
