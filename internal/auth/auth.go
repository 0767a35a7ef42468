// Package auth is the server's access control: users with roles, browser
// sessions, API tokens, login rate limiting and the audit log, all kept in
// the state store. Handlers are wrapped with Service.Require, which finds
// the caller's identity (session cookie, bearer token, or basic auth where
// the route allows it), checks the route's permission and CSRF token, and
// puts the identity in the request's context for the handler.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/saypro/monitor/internal/state"
)

// Defaults for Options.
const (
	DefaultIdleTimeout = 24 * time.Hour
	DefaultMaxAge      = 7 * 24 * time.Hour
	// AdminPasswordFile holds, in the data dir, the generated password of
	// the first admin when SAYPRO_ADMIN_PASSWORD was not set.
	AdminPasswordFile = "admin-password"
	// CookieName is the session cookie's name.
	CookieName = "saypro_session"
	// CSRFHeader carries the session's CSRF token on unsafe requests.
	CSRFHeader = "X-CSRF-Token"
	// TokenPrefix starts every API token secret, so that they are easy to
	// find in leaked text and to tell from passwords.
	TokenPrefix = "spm_"
	// touchEvery bounds how often a session's or token's last use is
	// written.
	touchEvery = time.Minute
)

// Options configure New.
type Options struct {
	DB     *state.DB
	Logger *slog.Logger
	// DataDir is where the generated admin password is written.
	DataDir string
	// AdminPassword, when set, is the first admin's password (from
	// SAYPRO_ADMIN_PASSWORD); it is used only while there are no users.
	AdminPassword string
	// IdleTimeout ends a session not used for this long; MaxAge ends it
	// regardless.
	IdleTimeout, MaxAge time.Duration
	// SecureCookies sets the Secure attribute on the session cookie:
	// "auto" (when the request came over TLS or the external URL is
	// https), "always" or "never".
	SecureCookies string
	// ExternalHTTPS tells "auto" that the server is reached over https
	// (behind a TLS-terminating proxy).
	ExternalHTTPS bool
	Registerer    prometheus.Registerer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service is the access control. It is safe for concurrent use.
type Service struct {
	db          *state.DB
	logger      *slog.Logger
	dataDir     string
	adminPW     string
	idle        time.Duration
	maxAge      time.Duration
	secure      string
	extHTTPS    bool
	now         func() time.Time
	hasher      *hasher
	limiter     *loginLimiter
	basicCache  *basicCache
	internalTok string

	mu      sync.Mutex
	touched map[string]time.Time // session hash or token id → last written use
	logins  *prometheus.CounterVec
	denials *prometheus.CounterVec
}

// New returns the access control over o.DB.
func New(o Options) (*Service, error) {
	if o.DB == nil || o.Logger == nil {
		return nil, errors.New("auth: DB and Logger are required")
	}
	s := &Service{
		db: o.DB, logger: o.Logger, dataDir: o.DataDir, adminPW: o.AdminPassword,
		idle: o.IdleTimeout, maxAge: o.MaxAge, secure: o.SecureCookies, extHTTPS: o.ExternalHTTPS,
		now: o.Now, hasher: newHasher(defaultArgon, 2), touched: map[string]time.Time{},
	}
	if s.idle <= 0 {
		s.idle = DefaultIdleTimeout
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxAge
	}
	switch s.secure {
	case "":
		s.secure = "auto"
	case "auto", "always", "never":
	default:
		return nil, fmt.Errorf("auth: secure cookies %q: use auto, always or never", s.secure)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.limiter = newLoginLimiter(s.now)
	s.basicCache = newBasicCache(s.now)
	tok, err := randomToken(32)
	if err != nil {
		return nil, err
	}
	s.internalTok = tok
	s.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "saypro_auth_logins_total", Help: "Login attempts by outcome (success, failure, limited).",
	}, []string{"outcome"})
	s.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "saypro_auth_denied_requests_total", Help: "Requests refused by access control, by status code (401, 403).",
	}, []string{"code"})
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{s.logins, s.denials} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Bootstrap creates the first admin when there are no users: with the
// password from Options.AdminPassword, or a random one written once to
// the log and to AdminPasswordFile in the data dir.
func (s *Service) Bootstrap(ctx context.Context) error {
	n, err := s.countUsers(ctx)
	if err != nil {
		return fmt.Errorf("counting users: %w", err)
	}
	if n > 0 {
		if s.adminPW != "" {
			s.logger.Info("SAYPRO_ADMIN_PASSWORD is ignored: users exist already (change passwords in the web UI or with the users API)")
		}
		return nil
	}
	pw, generated := s.adminPW, false
	if pw == "" {
		if pw, err = randomPassword(); err != nil {
			return err
		}
		generated = true
	} else if err := checkPasswordPolicy(pw); err != nil {
		return fmt.Errorf("SAYPRO_ADMIN_PASSWORD: %w", err)
	}
	hash, err := s.hasher.hash(ctx, pw)
	if err != nil {
		return err
	}
	if _, err := s.insertUser(ctx, "admin", RoleAdmin, hash); err != nil {
		return fmt.Errorf("creating the first admin: %w", err)
	}
	s.record(ctx, Identity{Name: "system", Kind: KindSystem}, "", "user.create", "admin", "first start: role admin", true)
	if !generated {
		s.logger.Info("created the first user, admin, with the password from SAYPRO_ADMIN_PASSWORD")
		return nil
	}
	path := filepath.Join(s.dataDir, AdminPasswordFile)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the first admin's password to %s: %w", path, err)
	}
	s.logger.Warn("created the first user, admin, with a generated password: log in and change it, then delete the file",
		"user", "admin", "password", pw, "file", path)
	return nil
}

// InternalToken is a bearer token with the view role that only this
// process knows, for its own scrape of /metrics.
func (s *Service) InternalToken() string { return s.internalTok }

// Identity is who makes a request.
type Identity struct {
	// Name is the user's name (for tokens, the token's user).
	Name string
	Kind string
	Role Role
	// sessionHash and csrf are set for browser sessions.
	sessionHash string
	csrf        string
	userID      int64
}

// Kinds of Identity.
const (
	KindSession = "session"
	KindToken   = "token"
	KindBasic   = "basic"
	KindSystem  = "system"
)

type ctxKey struct{}

// FromContext returns the identity Require put in ctx.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// Actor returns the name of r's caller, or "" when the request was not
// authenticated.
func Actor(r *http.Request) string {
	id, _ := FromContext(r.Context())
	return id.Name
}

// errNoCredentials means the request carried none of the accepted
// credentials.
var errNoCredentials = errors.New("no credentials")

// authenticate finds r's identity. basic allows HTTP basic auth with a
// user's password.
func (s *Service) authenticate(r *http.Request, basic bool) (Identity, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			return s.tokenIdentity(ctx, strings.TrimSpace(cred))
		case strings.EqualFold(scheme, "Basic"):
			user, pw, ok := r.BasicAuth()
			if !ok {
				return Identity{}, errors.New("malformed basic credentials")
			}
			if !basic {
				return Identity{}, errors.New("basic authentication is accepted only on the Prometheus and Alertmanager APIs: log in, or use an API token as a bearer token")
			}
			// An API token as the password is a common way to give
			// one to tools that only speak basic auth.
			if strings.HasPrefix(pw, TokenPrefix) {
				return s.tokenIdentity(ctx, pw)
			}
			return s.basicIdentity(r, user, pw)
		default:
			return Identity{}, fmt.Errorf("unsupported authorization scheme %q: use Bearer with an API token", scheme)
		}
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return s.sessionIdentity(ctx, c.Value)
	}
	return Identity{}, errNoCredentials
}

func (s *Service) tokenIdentity(ctx context.Context, secret string) (Identity, error) {
	if secret == "" {
		return Identity{}, errors.New("empty bearer token")
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.internalTok)) == 1 {
		return Identity{Name: "system", Kind: KindSystem, Role: RoleSupport}, nil
	}
	c, err := s.lookupToken(ctx, hashSecret(secret))
	if errors.Is(err, ErrNotFound) {
		return Identity{}, errors.New("unknown API token")
	}
	if err != nil {
		return Identity{}, err
	}
	now := s.now()
	switch {
	case c.revoked:
		return Identity{}, fmt.Errorf("API token %q was revoked", c.name)
	case c.expires != nil && now.After(*c.expires):
		return Identity{}, fmt.Errorf("API token %q expired at %s", c.name, c.expires.Format(time.RFC3339))
	case c.user.Disabled:
		return Identity{}, fmt.Errorf("the user of API token %q is disabled", c.name)
	}
	if s.shouldTouch(fmt.Sprintf("t%d", c.id), now) {
		if err := s.touchToken(ctx, c.id, now); err != nil {
			s.logger.Debug("recording a token's use", "err", err)
		}
	}
	return Identity{Name: c.user.Name, Kind: KindToken, Role: lower(c.role, c.user.Role), userID: c.user.ID}, nil
}

func (s *Service) sessionIdentity(ctx context.Context, cookie string) (Identity, error) {
	h := hashSecret(cookie)
	se, err := s.lookupSession(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Identity{}, errors.New("the session has ended: log in again")
	}
	if err != nil {
		return Identity{}, err
	}
	now := s.now()
	if now.After(se.expires) || now.Sub(se.lastSeen) > s.idle || se.user.Disabled {
		if err := s.deleteSession(ctx, h); err != nil {
			s.logger.Debug("deleting an ended session", "err", err)
		}
		return Identity{}, errors.New("the session has ended: log in again")
	}
	if s.shouldTouch("s"+h, now) {
		if err := s.touchSession(ctx, h, now); err != nil {
			s.logger.Debug("recording a session's use", "err", err)
		}
	}
	return Identity{Name: se.user.Name, Kind: KindSession, Role: se.user.Role, sessionHash: h, csrf: se.csrf, userID: se.user.ID}, nil
}

func (s *Service) basicIdentity(r *http.Request, user, pw string) (Identity, error) {
	if id, ok := s.basicCache.get(user, pw); ok {
		return id, nil
	}
	ip := remoteIP(r)
	if wait := s.limiter.blocked(ip, user); wait > 0 {
		return Identity{}, &limitedError{wait}
	}
	u, err := s.checkPassword(r.Context(), user, pw)
	if err != nil {
		s.limiter.fail(ip, user)
		s.record(r.Context(), Identity{Name: user, Kind: KindBasic}, ip, "login", user, "basic auth: "+err.Error(), false)
		return Identity{}, err
	}
	id := Identity{Name: u.Name, Kind: KindBasic, Role: u.Role, userID: u.ID}
	s.basicCache.put(user, pw, id)
	return id, nil
}

// errBadCredentials is all a failed login learns, whichever part was wrong.
var errBadCredentials = errors.New("wrong user name or password")

// checkPassword returns the user whose name and password these are.
func (s *Service) checkPassword(ctx context.Context, name, pw string) (User, error) {
	u, hash, err := s.userByName(ctx, name)
	if errors.Is(err, ErrNotFound) {
		// Spend the time of a check anyway, so that response times do not
		// tell which names exist.
		_, _ = s.hasher.hash(ctx, pw)
		return u, errBadCredentials
	}
	if err != nil {
		return u, err
	}
	ok, err := s.hasher.verify(ctx, hash, pw)
	if err != nil {
		return u, fmt.Errorf("checking the password of %q: %w", name, err)
	}
	if !ok {
		return u, errBadCredentials
	}
	if u.Disabled {
		return u, errors.New("this account is disabled: ask an admin")
	}
	return u, nil
}

// shouldTouch reports whether key's last use should be written now.
func (s *Service) shouldTouch(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.touched[key]; ok && now.Sub(t) < touchEvery {
		return false
	}
	if len(s.touched) > 100000 {
		clear(s.touched)
	}
	s.touched[key] = now
	return true
}

// record writes an audit entry; a failure to write is logged, not
// returned: the action has happened.
func (s *Service) record(ctx context.Context, who Identity, remote, action, target, detail string, success bool) {
	e := AuditEntry{Time: s.now().UTC(), Actor: who.Name, ActorKind: who.Kind, Action: action, Target: target, Detail: detail, RemoteAddr: remote, Success: success}
	if err := s.insertAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("writing the audit log", "action", action, "actor", who.Name, "err", err)
	}
}

// Record writes an audit entry for r's caller: other components' changes
// (silences, acks, reloads) go through here.
func (s *Service) Record(r *http.Request, action, target, detail string, success bool) {
	id, ok := FromContext(r.Context())
	if !ok {
		// A route whose credential is in the URL, such as an ack link.
		id = Identity{Name: "(signed link)", Kind: "link"}
	}
	s.record(r.Context(), id, remoteIP(r), action, target, detail, success)
}

// RecordSystem writes an audit entry for something the server did itself
// (a reload on SIGHUP, say).
func (s *Service) RecordSystem(ctx context.Context, action, target, detail string, success bool) {
	s.record(ctx, Identity{Name: "system", Kind: KindSystem}, "", action, target, detail, success)
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// randomPassword is 26 base32 characters (128 random bits).
func randomPassword() (string, error) { return rand.Text(), nil }

// remoteIP is the address the request came from (without the port).
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// CreateUser adds an account; the password must meet the policy.
func (s *Service) CreateUser(ctx context.Context, name string, role Role, password string) (User, error) {
	if err := validUserName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if err := checkPasswordPolicy(password); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	return s.insertUser(ctx, name, role, hash)
}

// ResetPassword sets a user's password and enables the account, ending its
// sessions: the way back in for an admin who lost theirs (the command
// line's `user reset-password`).
func (s *Service) ResetPassword(ctx context.Context, name, password string) error {
	if err := checkPasswordPolicy(password); err != nil {
		return err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return err
	}
	enabled := false
	if err := s.updateUser(ctx, name, userPatch{hash: &hash, disabled: &enabled}); err != nil {
		if errors.Is(err, ErrNotFound) {
			users, lerr := s.Users(ctx)
			if lerr == nil {
				names := make([]string, len(users))
				for i, u := range users {
					names[i] = u.Name
				}
				return fmt.Errorf("no user named %q; the users are: %s", name, strings.Join(names, ", "))
			}
		}
		return err
	}
	s.basicCache.reset()
	s.RecordSystem(ctx, "user.password", name, "reset from the command line; account enabled; sessions ended", true)
	return nil
}
