package logs

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/jsonapi"
)

// Status is what GET /api/v1/logs/status answers.
type Status struct {
	ReadOnly bool   `json:"read_only"`
	Reason   string `json:"reason,omitempty"`
	// The rest comes from the store.
	DiskBytes        int64             `json:"disk_bytes"`
	Rows             uint64            `json:"rows"`
	Days             uint64            `json:"days"`
	RetentionSeconds float64           `json:"retention_seconds"`
	Syslog           map[string]string `json:"syslog,omitempty"`
	TailSubscribers  int               `json:"tail_subscribers"`
}

// APIOptions configure the logs HTTP API.
type APIOptions struct {
	Store    Store
	Pipeline *Pipeline
	Rules    *Rules
	// Status reports the store's figures.
	Status func() Status
	// MaxBatchBytes bounds an agent's decoded batch.
	MaxBatchBytes int64
}

// API serves the logs endpoints.
type API struct{ o APIOptions }

// NewAPI returns the logs API.
func NewAPI(o APIOptions) *API {
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 8 << 20
	}
	return &API{o: o}
}

// ParseFilter reads the filter parameters of the logs API: start, end
// (RFC 3339 or Unix seconds; default the last hour), host, source,
// service, severity (repeatable or comma-separated), field=name:value
// (repeatable), q and regex.
func ParseFilter(r *http.Request, now time.Time) (Filter, error) {
	q := r.URL.Query()
	var f Filter
	var err error
	if f.End, err = jsonapi.ParseTime(q.Get("end"), now); err != nil {
		return f, fmt.Errorf("end: %w", err)
	}
	if f.Start, err = jsonapi.ParseTime(q.Get("start"), f.End.Add(-time.Hour)); err != nil {
		return f, fmt.Errorf("start: %w", err)
	}
	if !f.Start.Before(f.End) {
		return f, errors.New("start must be before end")
	}
	list := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, x := range strings.Split(v, ",") {
				if x = strings.TrimSpace(x); x != "" {
					out = append(out, x)
				}
			}
		}
		return out
	}
	f.Hosts, f.Sources, f.Services, f.Severities = list("host"), list("source"), list("service"), list("severity")
	for _, fv := range q["field"] {
		name, value, ok := strings.Cut(fv, ":")
		if !ok || name == "" {
			return f, fmt.Errorf("field %q: write it as name:value, for example event:ssh_failed", fv)
		}
		f.Fields = append(f.Fields, FieldMatch{Name: name, Value: value})
	}
	f.Text = strings.TrimSpace(q.Get("q"))
	f.Regex = q.Get("regex")
	if f.Regex != "" {
		if _, err := regexp.Compile(f.Regex); err != nil {
			return f, fmt.Errorf("regex: %w", err)
		}
	}
	return f, nil
}

func badData(w http.ResponseWriter, err error) {
	jsonapi.Error(w, http.StatusBadRequest, "bad_data", err.Error())
}

// QueryResult is the answer of GET /api/v1/logs/query.
type QueryResult struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Query serves GET /api/v1/logs/query: entries newest first, limit (at
// most 1000) per page, cursor from the previous page's next_cursor.
func (a *API) Query(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r, time.Now())
	if err != nil {
		badData(w, err)
		return
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			badData(w, fmt.Errorf("limit %q: use 1 to 1000", s))
			return
		}
	}
	var after *Cursor
	if s := r.URL.Query().Get("cursor"); s != "" {
		c, err := ParseCursor(s)
		if err != nil {
			badData(w, err)
			return
		}
		after = &c
	}
	entries, next, err := a.o.Store.Search(r.Context(), f, limit, after)
	if err != nil {
		jsonapi.Error(w, http.StatusUnprocessableEntity, "execution", err.Error())
		return
	}
	res := QueryResult{Entries: entries}
	if res.Entries == nil {
		res.Entries = []Entry{}
	}
	if next != nil {
		res.NextCursor = next.String()
	}
	jsonapi.Success(w, res)
}

// HistogramResult is the answer of GET /api/v1/logs/histogram.
type HistogramResult struct {
	StepSeconds int64    `json:"step_seconds"`
	Total       uint64   `json:"total"`
	Buckets     []Bucket `json:"buckets"`
}

// niceSteps are the histogram steps chosen automatically.
var niceSteps = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// maxStep is the longest histogram step a client may ask for.
const maxStep = 366 * 24 * time.Hour

// Histogram serves GET /api/v1/logs/histogram: counts per step (seconds;
// default about 60 buckets) by severity.
func (a *API) Histogram(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r, time.Now())
	if err != nil {
		badData(w, err)
		return
	}
	span := f.End.Sub(f.Start)
	step := niceSteps[len(niceSteps)-1]
	for _, s := range niceSteps {
		if span/s <= 60 {
			step = s
			break
		}
	}
	if s := r.URL.Query().Get("step"); s != "" {
		// NaN and huge values would overflow the duration (a zero step
		// divides by zero below), so they are refused like small ones.
		sec, err := strconv.ParseFloat(s, 64)
		if err != nil || !(sec >= 1 && sec <= maxStep.Seconds()) {
			badData(w, fmt.Errorf("step %q: use a number of seconds from 1 to %d", s, int64(maxStep.Seconds())))
			return
		}
		step = time.Duration(sec) * time.Second
	}
	if span/step > 5000 {
		badData(w, fmt.Errorf("a step of %s gives more than 5000 buckets over this range; use a longer step", step))
		return
	}
	buckets, total, err := a.o.Store.Histogram(r.Context(), f, step)
	if err != nil {
		jsonapi.Error(w, http.StatusUnprocessableEntity, "execution", err.Error())
		return
	}
	jsonapi.Success(w, HistogramResult{StepSeconds: int64(step / time.Second), Total: total, Buckets: buckets})
}

// Fields serves GET /api/v1/logs/fields: the top values of host, source,
// service and severity in the range (and filter).
func (a *API) Fields(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r, time.Now())
	if err != nil {
		badData(w, err)
		return
	}
	out := map[string][]Value{}
	for key, field := range map[string]string{"hosts": FieldHost, "sources": FieldSource, "services": FieldService, "severities": FieldSeverity} {
		vs, err := a.o.Store.Values(r.Context(), f, field, 100)
		if err != nil {
			jsonapi.Error(w, http.StatusUnprocessableEntity, "execution", err.Error())
			return
		}
		if vs == nil {
			vs = []Value{}
		}
		out[key] = vs
	}
	jsonapi.Success(w, out)
}

// Rules serves GET /api/v1/logs/rules.
func (a *API) RulesHandler(w http.ResponseWriter, r *http.Request) {
	var rules []RuleStatus
	if a.o.Rules != nil {
		rules = a.o.Rules.Status()
	}
	if rules == nil {
		rules = []RuleStatus{}
	}
	jsonapi.Success(w, map[string]any{"rules": rules})
}

// StatusHandler serves GET /api/v1/logs/status.
func (a *API) StatusHandler(w http.ResponseWriter, r *http.Request) {
	var s Status
	if a.o.Status != nil {
		s = a.o.Status()
	}
	s.TailSubscribers = a.o.Pipeline.Hub().Subscribers()
	jsonapi.Success(w, s)
}

// Tail serves GET /api/v1/logs/tail as text/event-stream: an `event: log`
// with each new matching entry, and `event: dropped` with {"count":n} when
// the client fell behind and entries were skipped.
func (a *API) Tail(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r, time.Now())
	if err != nil {
		badData(w, err)
		return
	}
	m, err := NewMatcher(f)
	if err != nil {
		badData(w, err)
		return
	}
	sub := a.o.Pipeline.Hub().Subscribe(m, 1000)
	defer sub.Close()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString(": saypro log tail\n\n")
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	enc := json.NewEncoder(&buf)
	write := func(e Entry) {
		buf.WriteString("event: log\ndata: ")
		enc.Encode(e) // ends with the newline that ends the data line
		buf.WriteString("\n")
	}
	for {
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		buf.Reset()
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			buf.WriteString(": keep-alive\n\n")
		case e := <-sub.C:
			write(e)
			for more := true; more && buf.Len() < 64<<10; {
				select {
				case e := <-sub.C:
					write(e)
				default:
					more = false
				}
			}
		}
		if n := sub.Dropped(); n > 0 {
			fmt.Fprintf(&buf, "event: dropped\ndata: {\"count\":%d}\n\n", n)
		}
	}
}

// AgentLogs serves POST /api/v1/agent/logs: an agent's LogBatch as JSON,
// optionally gzip-encoded. 204 stored; 400 a bad batch (do not resend);
// 413 too large; 507 the store is full (resend later).
func (a *API) AgentLogs(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "post a log batch", http.StatusMethodNotAllowed)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, a.o.MaxBatchBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, "the body is not gzip: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = io.LimitReader(zr, a.o.MaxBatchBytes+1)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("a log batch is limited to %d bytes; send smaller batches", a.o.MaxBatchBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the batch: "+err.Error(), http.StatusBadRequest)
		return
	}
	if int64(len(data)) > a.o.MaxBatchBytes {
		http.Error(w, fmt.Sprintf("a decoded log batch is limited to %d bytes; send smaller batches", a.o.MaxBatchBytes), http.StatusRequestEntityTooLarge)
		return
	}
	var b agentapi.LogBatch
	if err := json.Unmarshal(data, &b); err != nil {
		http.Error(w, "the batch is not a JSON log batch: "+err.Error(), http.StatusBadRequest)
		return
	}
	if b.Host == "" {
		http.Error(w, "the batch names no host", http.StatusBadRequest)
		return
	}
	for i, e := range b.Entries {
		if e.Source == "" {
			http.Error(w, fmt.Sprintf("entry %d names no source", i), http.StatusBadRequest)
			return
		}
	}
	if err := a.o.Pipeline.IngestAgent(r.Context(), b); err != nil {
		w.Header().Set("Retry-After", "60")
		http.Error(w, err.Error(), http.StatusInsufficientStorage)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
