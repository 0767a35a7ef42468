package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/jsonapi"
)

// Require wraps h so that it runs only for callers whose role grants perm.
// basic also accepts HTTP basic auth with a user's password (for the
// Prometheus and Alertmanager APIs, which tools such as Grafana call that
// way). Without credentials the answer is 401, with a role that lacks
// perm 403; a browser session must send its CSRF token on unsafe methods.
func (s *Service) Require(perm Permission, basic bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.authenticate(r, basic)
		if err != nil {
			var limited *limitedError
			if errors.As(err, &limited) {
				w.Header().Set("Retry-After", strconv.Itoa(int(limited.wait.Seconds())+1))
				s.deny(w, r, http.StatusTooManyRequests, err.Error())
				return
			}
			msg := "authentication required: log in, or send an API token as 'Authorization: Bearer <token>'"
			if !errors.Is(err, errNoCredentials) {
				msg = err.Error()
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="SayPro Monitor"`)
			s.deny(w, r, http.StatusUnauthorized, msg)
			return
		}
		if !id.Role.Allows(perm) {
			s.deny(w, r, http.StatusForbidden, fmt.Sprintf("your role (%s) may not do this: it needs the %s permission, which %s have", id.Role, perm, rolesWith(perm)))
			return
		}
		if id.Kind == KindSession && !safeMethod(r.Method) && !s.csrfOK(r, id) {
			s.deny(w, r, http.StatusForbidden, "missing or wrong CSRF token ("+CSRFHeader+" header): reload the page and try again")
			return
		}
		h.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (s *Service) csrfOK(r *http.Request, id Identity) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			got = r.PostFormValue("csrf_token")
		}
	}
	return got != "" && len(got) == len(id.csrf) && subtleEqual(got, id.csrf)
}

func rolesWith(p Permission) string {
	var names []string
	for _, r := range roles {
		if r.Allows(p) {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

func (s *Service) deny(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.denials.WithLabelValues(strconv.Itoa(code)).Inc()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		errType := "unauthorized"
		switch code {
		case http.StatusForbidden:
			errType = "forbidden"
		case http.StatusTooManyRequests:
			errType = "too_many_requests"
		}
		jsonapi.Error(w, code, errType, msg)
		return
	}
	http.Error(w, msg, code)
}

// Handler serves the access-control API; the caller wraps each route with
// Require (see the web package's route table):
//
//	POST   /api/v1/auth/login      open; {"username","password"} → session cookie
//	POST   /api/v1/auth/logout
//	GET    /api/v1/auth/session    the caller, its role, permissions and CSRF token
//	POST   /api/v1/auth/password   {"current","new"}; ends the user's sessions
//	GET    /api/v1/users           admin
//	POST   /api/v1/users           admin; {"name","role","password"}
//	PATCH  /api/v1/users/{name}    admin; {"role"?, "password"?, "disabled"?}
//	DELETE /api/v1/users/{name}    admin
//	GET    /api/v1/tokens          own tokens; admin: every token, ?user=
//	POST   /api/v1/tokens          {"name","role","expires_in"?}; the secret is in the answer, once
//	DELETE /api/v1/tokens/{id}     revoke (own; admin: any)
//	GET    /api/v1/audit           admin; ?actor= &action= &from= &to= &limit= &offset=
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", s.serveLogin)
	mux.HandleFunc("POST /api/v1/auth/logout", s.serveLogout)
	mux.HandleFunc("GET /api/v1/auth/session", s.serveSession)
	mux.HandleFunc("POST /api/v1/auth/password", s.servePassword)
	mux.HandleFunc("GET /api/v1/users", s.serveUsers)
	mux.HandleFunc("POST /api/v1/users", s.serveCreateUser)
	mux.HandleFunc("PATCH /api/v1/users/{name}", s.serveUpdateUser)
	mux.HandleFunc("DELETE /api/v1/users/{name}", s.serveDeleteUser)
	mux.HandleFunc("GET /api/v1/tokens", s.serveTokens)
	mux.HandleFunc("POST /api/v1/tokens", s.serveCreateToken)
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", s.serveRevokeToken)
	mux.HandleFunc("GET /api/v1/audit", s.serveAudit)
	return mux
}

const maxBody = 64 << 10

// decode reads a JSON body into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return errors.New("send the body as JSON with Content-Type: application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the body is empty: send a JSON object")
		}
		return fmt.Errorf("reading the JSON body: %w", err)
	}
	return nil
}

func badRequest(w http.ResponseWriter, err error) {
	jsonapi.Error(w, http.StatusBadRequest, "bad_data", err.Error())
}

func (s *Service) writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		jsonapi.Error(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrExists):
		jsonapi.Error(w, http.StatusConflict, "conflict", err.Error())
	default:
		s.logger.Error("access control", "err", err)
		jsonapi.Error(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

type sessionView struct {
	User struct {
		Name string `json:"name"`
		Role Role   `json:"role"`
	} `json:"user"`
	Kind        string       `json:"kind"`
	CSRFToken   string       `json:"csrf_token,omitempty"`
	Permissions []Permission `json:"permissions"`
}

func viewOf(id Identity) sessionView {
	var v sessionView
	v.User.Name, v.User.Role = id.Name, id.Role
	v.Kind, v.CSRFToken, v.Permissions = id.Kind, id.csrf, id.Role.Permissions()
	return v
}

func (s *Service) serveLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	// JSON only: a cross-site form cannot send it without CORS, so a
	// login cannot be forged from another page.
	if err := decode(w, r, &body); err != nil {
		badRequest(w, err)
		return
	}
	ip := remoteIP(r)
	who := Identity{Name: body.Username, Kind: KindSession}
	if body.Username == "" || body.Password == "" {
		badRequest(w, errors.New("username and password are required"))
		return
	}
	if wait := s.limiter.blocked(ip, body.Username); wait > 0 {
		s.logins.WithLabelValues("limited").Inc()
		s.record(r.Context(), who, ip, "login", body.Username, "refused: too many failed attempts", false)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		jsonapi.Error(w, http.StatusTooManyRequests, "too_many_requests", (&limitedError{wait}).Error())
		return
	}
	u, err := s.checkPassword(r.Context(), body.Username, body.Password)
	if err != nil {
		s.limiter.fail(ip, body.Username)
		s.logins.WithLabelValues("failure").Inc()
		s.record(r.Context(), who, ip, "login", body.Username, err.Error(), false)
		jsonapi.Error(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	s.limiter.succeed(ip, body.Username)
	cookie, err := randomToken(32)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	csrf, err := randomToken(24)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	h := hashSecret(cookie)
	if err := s.insertSession(r.Context(), h, u.ID, csrf, ip, r.UserAgent()); err != nil {
		s.writeErr(w, err)
		return
	}
	if err := s.recordLogin(r.Context(), u.ID); err != nil {
		s.logger.Debug("recording the login time", "err", err)
	}
	s.logins.WithLabelValues("success").Inc()
	id := Identity{Name: u.Name, Kind: KindSession, Role: u.Role, sessionHash: h, csrf: csrf, userID: u.ID}
	s.record(r.Context(), id, ip, "login", u.Name, "", true)
	http.SetCookie(w, s.cookie(r, cookie, int(s.maxAge.Seconds())))
	jsonapi.Success(w, viewOf(id))
}

func (s *Service) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	secure := false
	switch s.secure {
	case "always":
		secure = true
	case "auto":
		secure = r.TLS != nil || s.extHTTPS
	}
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
}

func (s *Service) serveLogout(w http.ResponseWriter, r *http.Request) {
	id, _ := FromContext(r.Context())
	if id.sessionHash != "" {
		if err := s.deleteSession(r.Context(), id.sessionHash); err != nil {
			s.writeErr(w, err)
			return
		}
	}
	s.Record(r, "logout", id.Name, "", true)
	http.SetCookie(w, s.cookie(r, "", -1))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) serveSession(w http.ResponseWriter, r *http.Request) {
	id, _ := FromContext(r.Context())
	jsonapi.Success(w, viewOf(id))
}

func (s *Service) servePassword(w http.ResponseWriter, r *http.Request) {
	id, _ := FromContext(r.Context())
	var body struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if err := decode(w, r, &body); err != nil {
		badRequest(w, err)
		return
	}
	if id.Kind == KindSystem || id.Kind == KindToken {
		jsonapi.Error(w, http.StatusForbidden, "forbidden", "a password is changed from a login (session or basic auth), not with an API token")
		return
	}
	ip := remoteIP(r)
	if wait := s.limiter.blocked(ip, id.Name); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		jsonapi.Error(w, http.StatusTooManyRequests, "too_many_requests", (&limitedError{wait}).Error())
		return
	}
	if _, err := s.checkPassword(r.Context(), id.Name, body.Current); err != nil {
		s.limiter.fail(ip, id.Name)
		s.Record(r, "user.password", id.Name, "wrong current password", false)
		jsonapi.Error(w, http.StatusBadRequest, "bad_data", "the current password is wrong")
		return
	}
	if err := s.setPassword(r, id.Name, body.New); err != nil {
		badRequest(w, err)
		return
	}
	http.SetCookie(w, s.cookie(r, "", -1))
	w.WriteHeader(http.StatusNoContent)
}

// setPassword checks and stores a new password for name, which ends the
// user's sessions.
func (s *Service) setPassword(r *http.Request, name, pw string) error {
	if err := checkPasswordPolicy(pw); err != nil {
		return err
	}
	hash, err := s.hasher.hash(r.Context(), pw)
	if err != nil {
		return err
	}
	if err := s.updateUser(r.Context(), name, userPatch{hash: &hash}); err != nil {
		return err
	}
	s.basicCache.reset()
	s.Record(r, "user.password", name, "password changed; sessions ended", true)
	return nil
}

func (s *Service) serveUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.Users(r.Context())
	if err != nil {
		s.writeErr(w, err)
		return
	}
	jsonapi.Success(w, map[string]any{"users": users})
}

// validUserName allows what a login form and a URL path carry plainly.
func validUserName(n string) error {
	if n == "" || len(n) > 64 {
		return errors.New("a user name has 1 to 64 characters")
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)) {
			return fmt.Errorf("user name %q: use letters, digits and . _ - @", n)
		}
	}
	if n == "system" || n == "anonymous" {
		return fmt.Errorf("user name %q is reserved", n)
	}
	return nil
}

func (s *Service) serveCreateUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &body); err != nil {
		badRequest(w, err)
		return
	}
	u, err := s.CreateUser(r.Context(), body.Name, Role(body.Role), body.Password)
	if err != nil {
		s.Record(r, "user.create", body.Name, err.Error(), false)
		if errors.Is(err, ErrExists) {
			s.writeErr(w, err)
			return
		}
		badRequest(w, err)
		return
	}
	role := u.Role
	s.Record(r, "user.create", u.Name, "role "+string(role), true)
	w.Header().Set("Location", "/api/v1/users/"+u.Name)
	jsonapi.SuccessStatus(w, http.StatusCreated, map[string]any{"user": u})
}

func (s *Service) serveUpdateUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	me, _ := FromContext(r.Context())
	var body struct {
		Role     *string `json:"role"`
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
	}
	if err := decode(w, r, &body); err != nil {
		badRequest(w, err)
		return
	}
	var p userPatch
	var changes []string
	if body.Role != nil {
		role, err := ParseRole(*body.Role)
		if err != nil {
			badRequest(w, err)
			return
		}
		p.role = &role
		changes = append(changes, "role "+string(role))
	}
	if body.Disabled != nil {
		p.disabled = body.Disabled
		changes = append(changes, fmt.Sprintf("disabled %t", *body.Disabled))
	}
	if (p.role != nil && *p.role != RoleAdmin) || (p.disabled != nil && *p.disabled) {
		if err := s.keepAnAdmin(r, name); err != nil {
			jsonapi.Error(w, http.StatusConflict, "conflict", err.Error())
			return
		}
	}
	if p.role != nil || p.disabled != nil {
		if err := s.updateUser(r.Context(), name, p); err != nil {
			s.Record(r, "user.update", name, err.Error(), false)
			s.writeErr(w, err)
			return
		}
		s.basicCache.reset()
		s.Record(r, "user.update", name, strings.Join(changes, ", "), true)
	}
	if body.Password != nil {
		if err := s.setPassword(r, name, *body.Password); err != nil {
			if errors.Is(err, ErrNotFound) {
				s.writeErr(w, err)
				return
			}
			badRequest(w, err)
			return
		}
	}
	if name == me.Name && (p.role != nil || body.Password != nil || p.disabled != nil) {
		// The change ended the caller's own session.
		http.SetCookie(w, s.cookie(r, "", -1))
	}
	u, _, err := s.userByName(r.Context(), name)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	jsonapi.Success(w, map[string]any{"user": u})
}

// keepAnAdmin refuses a change that would leave no enabled admin.
func (s *Service) keepAnAdmin(r *http.Request, name string) error {
	users, err := s.Users(r.Context())
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Name != name && u.Role == RoleAdmin && !u.Disabled {
			return nil
		}
	}
	return fmt.Errorf("%s is the last enabled admin: make another user admin first", name)
}

func (s *Service) serveDeleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	me, _ := FromContext(r.Context())
	if name == me.Name {
		jsonapi.Error(w, http.StatusConflict, "conflict", "you cannot delete your own account: another admin can")
		return
	}
	if err := s.keepAnAdmin(r, name); err != nil {
		jsonapi.Error(w, http.StatusConflict, "conflict", err.Error())
		return
	}
	if err := s.deleteUser(r.Context(), name); err != nil {
		s.Record(r, "user.delete", name, err.Error(), false)
		s.writeErr(w, err)
		return
	}
	s.basicCache.reset()
	s.Record(r, "user.delete", name, "with its sessions and tokens", true)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) serveTokens(w http.ResponseWriter, r *http.Request) {
	me, _ := FromContext(r.Context())
	user := me.Name
	if me.Role.Allows(PermAdmin) {
		user = r.URL.Query().Get("user")
	}
	toks, err := s.tokens(r.Context(), user)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	jsonapi.Success(w, map[string]any{"tokens": toks})
}

func (s *Service) serveCreateToken(w http.ResponseWriter, r *http.Request) {
	me, _ := FromContext(r.Context())
	var body struct {
		Name      string `json:"name"`
		Role      string `json:"role"`
		ExpiresIn string `json:"expires_in"`
	}
	if err := decode(w, r, &body); err != nil {
		badRequest(w, err)
		return
	}
	if me.userID == 0 || me.Kind == KindToken {
		jsonapi.Error(w, http.StatusForbidden, "forbidden", "API tokens are created by a logged-in user, not by another token")
		return
	}
	if body.Name == "" || len(body.Name) > 100 {
		badRequest(w, errors.New("a token needs a name of 1 to 100 characters that says what uses it"))
		return
	}
	role := me.Role
	if body.Role != "" {
		var err error
		if role, err = ParseRole(body.Role); err != nil {
			badRequest(w, err)
			return
		}
	}
	if !me.Role.Covers(role) {
		jsonapi.Error(w, http.StatusForbidden, "forbidden", fmt.Sprintf("your role (%s) cannot create a token with role %s", me.Role, role))
		return
	}
	var expires *time.Time
	if body.ExpiresIn != "" {
		d, err := time.ParseDuration(body.ExpiresIn)
		if err != nil || d <= 0 {
			badRequest(w, fmt.Errorf("expires_in %q: use a duration such as 720h, or leave it out for a token that does not expire", body.ExpiresIn))
			return
		}
		t := s.now().Add(d).UTC()
		expires = &t
	}
	raw, err := randomToken(32)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	secret := TokenPrefix + raw
	id, err := s.insertToken(r.Context(), me.userID, body.Name, role, hashSecret(secret), expires)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	tok, err := s.token(r.Context(), id)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.Record(r, "token.create", fmt.Sprintf("%d %s", id, body.Name), "role "+string(role), true)
	jsonapi.SuccessStatus(w, http.StatusCreated, map[string]any{"token": tok, "secret": secret})
}

func (s *Service) serveRevokeToken(w http.ResponseWriter, r *http.Request) {
	me, _ := FromContext(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		badRequest(w, fmt.Errorf("token id %q is not a number", r.PathValue("id")))
		return
	}
	tok, err := s.token(r.Context(), id)
	if err == nil && tok.User != me.Name && !me.Role.Allows(PermAdmin) {
		// Other users' tokens do not exist for a non-admin.
		err = fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if err := s.revokeToken(r.Context(), id); err != nil {
		s.writeErr(w, err)
		return
	}
	s.Record(r, "token.revoke", fmt.Sprintf("%d %s", id, tok.Name), "of "+tok.User, true)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) serveAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := AuditFilter{Actor: q.Get("actor"), Action: q.Get("action")}
	var err error
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" && err == nil {
			if *p.dst, err = jsonapi.ParseTime(v, time.Time{}); err != nil {
				err = fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &f.Limit, 1, 1000}, {"offset", &f.Offset, 0, 1 << 30}} {
		if v := q.Get(p.name); v != "" && err == nil {
			n, perr := strconv.Atoi(v)
			if perr != nil || n < p.min || n > p.max {
				err = fmt.Errorf("%s %q: use a number from %d to %d", p.name, v, p.min, p.max)
			}
			*p.dst = n
		}
	}
	if err != nil {
		badRequest(w, err)
		return
	}
	entries, total, err := s.Audit(r.Context(), f)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	jsonapi.Success(w, map[string]any{"entries": entries, "total": total})
}
