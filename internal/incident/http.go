package incident

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/jsonapi"
)

// APIPath is where the JSON API is served; ack link pages are under
// /incidents/{id}/ack.
const APIPath = "/api/v1/incidents"

// maxBody bounds the JSON body of an action and the ack form.
const maxBody = 64 << 10

// Handler serves the incident API, in the Prometheus API's JSON envelope,
// and the ack link pages:
//
//	GET   /api/v1/incidents                  ?status=open,acknowledged&severity=&service=&host=&from=&to=&limit=&offset=
//	GET   /api/v1/incidents/stats            ?by=service|host|month|severity&from=&to=
//	GET   /api/v1/incidents/{id}             with alerts and timeline
//	PATCH /api/v1/incidents/{id}             {"severity","root_cause","title","by"}
//	POST  /api/v1/incidents/{id}/ack         {"by"} (optional body)
//	POST  /api/v1/incidents/{id}/notes       {"by","text"}
//	POST  /api/v1/incidents/{id}/resolve     {"by"} (optional body)
//	POST  /api/v1/incidents/{id}/reopen      {"by"} (optional body)
//	GET   /incidents/{id}/ack?token=         a page with the incident and an Acknowledge button; changes nothing
//	POST  /incidents/{id}/ack                the page's form (token, name): acknowledges
//
// Times in from and to are RFC 3339 or Unix seconds. Actions answer with
// the incident as GET shows it.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPath, m.serveList)
	mux.HandleFunc("GET "+APIPath+"/stats", m.serveStats)
	mux.HandleFunc("GET "+APIPath+"/{id}", m.serveGet)
	mux.HandleFunc("PATCH "+APIPath+"/{id}", m.servePatch)
	mux.HandleFunc("POST "+APIPath+"/{id}/ack", m.serveAction(func(r *http.Request, id int64, b actionBody) error { return m.Ack(r.Context(), id, b.By) }))
	mux.HandleFunc("POST "+APIPath+"/{id}/notes", m.serveAction(func(r *http.Request, id int64, b actionBody) error {
		return m.AddNote(r.Context(), id, b.By, b.Text)
	}))
	mux.HandleFunc("POST "+APIPath+"/{id}/resolve", m.serveAction(func(r *http.Request, id int64, b actionBody) error { return m.Resolve(r.Context(), id, b.By) }))
	mux.HandleFunc("POST "+APIPath+"/{id}/reopen", m.serveAction(func(r *http.Request, id int64, b actionBody) error { return m.Reopen(r.Context(), id, b.By) }))
	mux.HandleFunc(APIPath+"/", serveUnknown)
	mux.HandleFunc("GET /incidents/{id}/ack", m.serveAckPage)
	mux.HandleFunc("POST /incidents/{id}/ack", m.serveAckForm)
	return mux
}

// serveUnknown answers API paths and methods that do not exist in the
// envelope instead of the mux's plain text.
func serveUnknown(w http.ResponseWriter, r *http.Request) {
	jsonapi.Error(w, http.StatusNotFound, "not_found", fmt.Sprintf("no incident API at %s %s: see GET %s, GET %s/{id} and POST %s/{id}/ack|notes|resolve|reopen",
		r.Method, r.URL.Path, APIPath, APIPath, APIPath))
}

func (m *Manager) serveList(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		jsonapi.Error(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	incs, total, err := m.List(r.Context(), f)
	if err != nil {
		writeError(w, err)
		return
	}
	jsonapi.Success(w, struct {
		Incidents []Incident `json:"incidents"`
		Total     int        `json:"total"`
	}{incs, total})
}

func (m *Manager) serveStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	by := q.Get("by")
	if by == "" {
		by = "service"
	}
	from, err := parseTime("from", q.Get("from"))
	if err == nil {
		var to time.Time
		to, err = parseTime("to", q.Get("to"))
		if err == nil {
			var stats []Stat
			if stats, err = m.Stats(r.Context(), by, from, to); err == nil {
				jsonapi.Success(w, struct {
					By    string `json:"by"`
					Stats []Stat `json:"stats"`
				}{by, stats})
				return
			}
		}
	}
	writeError(w, err)
}

func (m *Manager) serveGet(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	m.answer(w, r, id, nil)
}

// actionBody is the JSON body of the actions; every field is optional
// but text for notes.
type actionBody struct {
	By        string  `json:"by"`
	Text      string  `json:"text"`
	Severity  *string `json:"severity"`
	RootCause *string `json:"root_cause"`
	Title     *string `json:"title"`
}

func (m *Manager) serveAction(do func(r *http.Request, id int64, b actionBody) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, b, err := readAction(w, r)
		if err == nil {
			b.By = m.by(r, b.By)
			err = do(r, id, b)
		}
		m.answer(w, r, id, err)
	}
}

func (m *Manager) servePatch(w http.ResponseWriter, r *http.Request) {
	id, b, err := readAction(w, r)
	if err == nil {
		b.By = m.by(r, b.By)
		err = m.Update(r.Context(), id, Patch{Severity: b.Severity, RootCause: b.RootCause, Title: b.Title}, b.By)
	}
	m.answer(w, r, id, err)
}

// answer writes err, or the incident after a successful action.
func (m *Manager) answer(w http.ResponseWriter, r *http.Request, id int64, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	inc, err := m.Get(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	jsonapi.Success(w, inc)
}

// readAction reads the id and the optional JSON body; unknown fields are
// an error, so that a misspelt field is not silently ignored.
func readAction(w http.ResponseWriter, r *http.Request) (int64, actionBody, error) {
	var b actionBody
	id, err := parseID(r)
	if err != nil {
		return 0, b, err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return 0, b, fmt.Errorf("%w: the body is not a valid JSON object of by, text, severity, root_cause, title: %v", ErrInvalid, err)
	}
	return id, b, nil
}

func parseID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: incident id %q is not a positive integer", ErrInvalid, s)
	}
	return id, nil
}

// writeError maps the package's errors to statuses.
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		jsonapi.Error(w, http.StatusBadRequest, "bad_data", err.Error())
	case errors.Is(err, ErrNotFound):
		jsonapi.Error(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrInvalidTransition):
		jsonapi.Error(w, http.StatusConflict, "conflict", err.Error())
	default:
		jsonapi.Error(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

// ParseFilter reads List's filter from query parameters: status (one or
// several, comma-separated), severity, service, host, group_key, from and
// to (RFC 3339 or Unix seconds), limit (1 to 1000, 100 by default) and
// offset. Errors wrap ErrInvalid and name the parameter.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{
		Status: q.Get("status"), Severity: q.Get("severity"), Service: q.Get("service"),
		Host: q.Get("host"), GroupKey: q.Get("group_key"), Limit: DefaultLimit,
	}
	if _, _, err := f.where(); err != nil {
		return Filter{}, err
	}
	var err error
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		return Filter{}, err
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		return Filter{}, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return Filter{}, fmt.Errorf("%w: from must be before to", ErrInvalid)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Filter{}, fmt.Errorf("%w: limit %q: use a number from 1 to %d", ErrInvalid, s, MaxLimit)
		}
		f.Limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Filter{}, fmt.Errorf("%w: offset %q: use a number from 0", ErrInvalid, s)
		}
		f.Offset = n
	}
	return f, nil
}

// parseTime reads the time parameter name; "" is the zero time.
func parseTime(name, s string) (time.Time, error) {
	t, err := jsonapi.ParseTime(s, time.Time{})
	if err != nil {
		return t, fmt.Errorf("%w: %s %w", ErrInvalid, name, err)
	}
	return t, nil
}

var ackPage = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Heading}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}
.s{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;background:#eee}.critical{background:#fdd}.warning{background:#fec}
button{font-size:1.1rem;padding:.5rem 1.2rem}input{font-size:1rem;padding:.3rem}</style></head><body>
<h1>{{.Heading}}</h1>
{{with .Incident}}<p><strong>{{.Title}}</strong></p>
<p><span class="s {{.Severity}}">{{.Severity}}</span> <span class="s">{{.Status}}</span> opened {{.OpenedAt.Format "2006-01-02 15:04 UTC"}}{{if .Service}} · {{.Service}}{{end}}{{if .Host}} · {{.Host}}{{end}}</p>
{{if .AcknowledgedAt}}<p>Acknowledged by {{.AcknowledgedBy}} at {{.AcknowledgedAt.Format "2006-01-02 15:04 UTC"}}.</p>{{end}}
{{if .ResolvedAt}}<p>Resolved by {{.ResolvedBy}} at {{.ResolvedAt.Format "2006-01-02 15:04 UTC"}}.</p>{{end}}{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}"><input type="hidden" name="token" value="{{.Token}}">
<p><label>Your name (optional) <input name="name" maxlength="100" autocomplete="name"></label></p>
<p><button type="submit">Acknowledge</button></p></form>{{end}}
{{with .Incident}}<p><a href="{{.URL}}">Open the incident</a></p>{{end}}
</body></html>
`))

// ackView is what the ack page shows.
type ackView struct {
	Heading  string
	Incident *Incident
	Message  string
	Form     bool
	Action   string
	Token    string
}

func (m *Manager) writeAckPage(w http.ResponseWriter, code int, v ackView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The token is a credential: keep it out of caches and Referer headers.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_ = ackPage.Execute(w, v)
}

// ackIncident checks the id and token of an ack request and loads the
// incident; on failure it has written the page.
func (m *Manager) ackIncident(w http.ResponseWriter, r *http.Request, token string) (Incident, bool) {
	id, err := parseID(r)
	if err != nil {
		m.writeAckPage(w, http.StatusBadRequest, ackView{Heading: "Bad link", Message: "This acknowledgement link is damaged: " + err.Error() + "."})
		return Incident{}, false
	}
	if !m.validToken(id, token) {
		m.writeAckPage(w, http.StatusForbidden, ackView{Heading: "Link not valid",
			Message: "This acknowledgement link's token does not match incident " + strconv.FormatInt(id, 10) + ". Copy the whole link from the notification, or acknowledge the incident in the web interface."})
		return Incident{}, false
	}
	inc, err := m.load(r.Context(), m.db.SQL(), id)
	if errors.Is(err, ErrNotFound) {
		m.writeAckPage(w, http.StatusNotFound, ackView{Heading: "No such incident", Message: fmt.Sprintf("Incident %d does not exist (any more).", id)})
		return Incident{}, false
	}
	if err != nil {
		m.logger.Error("reading an incident for its ack page", "incident", id, "err", err)
		m.writeAckPage(w, http.StatusInternalServerError, ackView{Heading: "Server error", Message: "The incident could not be read; try again."})
		return Incident{}, false
	}
	return inc, true
}

// serveAckPage shows the incident and a form. It changes nothing: chat
// apps open links to preview them.
func (m *Manager) serveAckPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	inc, ok := m.ackIncident(w, r, token)
	if !ok {
		return
	}
	v := ackView{Heading: fmt.Sprintf("Incident %d", inc.ID), Incident: &inc, Action: r.URL.Path, Token: token}
	switch inc.Status {
	case StatusOpen:
		v.Form = true
	case StatusAcknowledged:
		v.Message = "Already acknowledged; nothing to do."
	case StatusResolved:
		v.Message = "Already resolved; nothing to do."
	}
	m.writeAckPage(w, http.StatusOK, v)
}

// serveAckForm acknowledges from the page's form.
func (m *Manager) serveAckForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		m.writeAckPage(w, http.StatusBadRequest, ackView{Heading: "Bad request", Message: "The form could not be read: " + err.Error()})
		return
	}
	inc, ok := m.ackIncident(w, r, r.PostForm.Get("token"))
	if !ok {
		return
	}
	by := strings.TrimSpace(r.PostForm.Get("name"))
	if by == "" {
		by = ActorLink
	}
	err := m.Ack(r.Context(), inc.ID, by)
	v := ackView{Heading: fmt.Sprintf("Incident %d", inc.ID)}
	code := http.StatusOK
	switch {
	case err == nil:
		v.Heading = fmt.Sprintf("Incident %d acknowledged", inc.ID)
	case errors.Is(err, ErrInvalidTransition):
		code = http.StatusConflict
		v.Message = "Not acknowledged: " + err.Error() + "."
	default:
		m.logger.Error("acknowledging an incident from its link", "incident", inc.ID, "err", err)
		code = http.StatusInternalServerError
		v.Message = "The acknowledgement could not be stored; try again."
	}
	if cur, err := m.load(r.Context(), m.db.SQL(), inc.ID); err == nil {
		inc = cur
	}
	v.Incident = &inc
	m.writeAckPage(w, code, v)
}

// by is who acts: the logged-in caller when there is one, else the body's
// "by", else "api".
func (m *Manager) by(r *http.Request, body string) string {
	if m.actor != nil {
		if name := m.actor(r); name != "" {
			return name
		}
	}
	if body == "" {
		return "api"
	}
	return body
}
