package probe

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/event"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver/auth"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// mongoProber checks a MongoDB deployment with the official driver: it
// connects, times a ping and reads serverStatus, then disconnects.
type mongoProber struct {
	env Env
	uri string
	// username, password and passwordEnv override the URI's credentials.
	username    string
	password    string
	passwordEnv string
	uriPassword string // to scrub from reasons
	uriUser     bool   // the URI names a user
}

// mongoAppName names the monitor in the server's log and currentOp.
const mongoAppName = "saypro-monitor"

// mongoMinAvailablePercent: fewer available connections than this share of
// current plus available is degraded.
const mongoMinAvailablePercent = 10

func newMongoDB(c *checkconfig.Check, env Env) (Prober, error) {
	cfg := c.MongoDB
	if cfg == nil {
		cfg = &checkconfig.MongoDB{}
	}
	p := &mongoProber{
		env: env, uri: c.Target,
		username: cfg.Username, password: string(cfg.Password), passwordEnv: cfg.PasswordEnv,
	}
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") || u.Host == "" {
		// url.Parse's error repeats the URI, password included.
		return nil, fmt.Errorf("target is not a mongodb:// or mongodb+srv:// URI")
	}
	if u.User != nil {
		p.uriPassword, _ = u.User.Password()
		p.uriUser = u.User.Username() != ""
	}
	if u.Scheme == "mongodb" {
		// mongodb+srv:// is resolved at each run, not here.
		if err := options.Client().ApplyURI(c.Target).Validate(); err != nil {
			return nil, fmt.Errorf("target: %s", kvScrub(err.Error(), p.uriPassword))
		}
	}
	if (p.password != "" || p.passwordEnv != "") && p.username == "" && !p.uriUser {
		return nil, fmt.Errorf("a password needs a user name: set username or put the user in the URI")
	}
	return p, nil
}

// Probe connects, pings twice (the first pays for server selection, the
// handshake and authentication; the second is the latency), reads
// serverStatus and disconnects. A failed connection, authentication or
// ping is down; serverStatus refused or few available connections is
// degraded.
func (p *mongoProber) Probe(ctx context.Context) Result {
	var r Result
	password, err := p.env.secret(p.password, p.passwordEnv)
	if err != nil {
		return r.Failf("password_env: %v", err)
	}
	scrub := func(s string) string { return kvScrub(kvScrub(s, password), p.uriPassword) }
	timeout := kvTimeout(ctx)

	opts := options.Client().ApplyURI(p.uri)
	if p.username != "" || password != "" {
		var cred options.Credential
		if opts.Auth != nil {
			cred = *opts.Auth
		}
		if p.username != "" {
			cred.Username = p.username
		}
		if password != "" {
			cred.Password, cred.PasswordSet = password, true
		}
		opts.SetAuth(cred)
	}
	if opts.AppName == nil {
		opts.SetAppName(mongoAppName)
	}
	opts.SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout).
		SetMaxPoolSize(1).
		SetRetryReads(false).
		SetRetryWrites(false).
		SetServerMonitoringMode(options.ServerMonitoringModePoll)
	// With one server, its first failed heartbeat (connection refused, a
	// TLS error) is the answer; the driver would wait for the deadline.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	host := ""
	if len(opts.Hosts) == 1 && !strings.HasPrefix(p.uri, "mongodb+srv:") {
		host = opts.Hosts[0]
		opts.SetServerMonitor(&event.ServerMonitor{
			ServerHeartbeatFailed: func(e *event.ServerHeartbeatFailedEvent) {
				cancel(&mongoHeartbeatError{err: e.Failure})
			},
		})
	}
	failed := func(err error) Result {
		var he *mongoHeartbeatError
		if errors.As(context.Cause(ctx), &he) {
			return r.Failf("%s", scrub(host+": "+mongoReason(he.err, timeout)))
		}
		return r.Failf("%s", scrub(mongoReason(err, timeout)))
	}
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return failed(err)
	}
	defer func() {
		// Disconnect ends the sessions and stops the monitors; give it a
		// moment of its own when the run's deadline has passed.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()

	if err := client.Ping(ctx, nil); err != nil {
		return failed(err)
	}
	start := time.Now()
	if err := client.Ping(ctx, nil); err != nil {
		return failed(err)
	}
	r.Latency = time.Since(start)
	r.Add("saypro_mongodb_ping_duration_seconds", r.Latency.Seconds())
	r.Success = true

	// The large sections are left out; they are not read.
	cmd := bson.D{{Key: "serverStatus", Value: 1}, {Key: "metrics", Value: 0}, {Key: "locks", Value: 0}, {Key: "wiredTiger", Value: 0}, {Key: "tcmalloc", Value: 0}}
	status, err := client.Database("admin").RunCommand(ctx, cmd).Raw()
	if err != nil {
		msg := "serverStatus failed: " + mongoReason(err, timeout)
		var ce mongo.CommandError
		if errors.As(err, &ce) && (ce.Code == 13 || ce.Name == "Unauthorized") {
			msg += " (grant the user the clusterMonitor role)"
		}
		r.Warnf("%s", scrub(msg))
		return r
	}
	evaluateMongoStatus(&r, status)
	return r
}

// mongoHeartbeatError is why a run ended early: the one server's
// monitor could not reach it.
type mongoHeartbeatError struct{ err error }

func (e *mongoHeartbeatError) Error() string { return e.err.Error() }
func (e *mongoHeartbeatError) Unwrap() error { return e.err }

// evaluateMongoStatus adds the serverStatus figures to r and warns when
// connections run out.
func evaluateMongoStatus(r *Result, status bson.Raw) {
	num := func(keys ...string) (float64, bool) {
		v, err := status.LookupErr(keys...)
		if err != nil {
			return 0, false
		}
		return mongoNumber(v)
	}
	current, okCur := num("connections", "current")
	available, okAvail := num("connections", "available")
	if okCur {
		r.Add("saypro_mongodb_connections", current, "state", "current")
	}
	if okAvail {
		r.Add("saypro_mongodb_connections", available, "state", "available")
	}
	if v, ok := num("connections", "totalCreated"); ok {
		r.Add("saypro_mongodb_connections_created_total", v)
	}
	for _, op := range []string{"reads", "writes", "commands"} {
		if v, ok := num("opLatencies", op, "latency"); ok {
			// Microseconds spent, summed since the start.
			r.Add("saypro_mongodb_op_latency_seconds_total", v/1e6, "op", op)
		}
		if v, ok := num("opLatencies", op, "ops"); ok {
			r.Add("saypro_mongodb_ops_total", v, "op", op)
		}
	}
	if v, ok := num("uptime"); ok {
		r.Add("saypro_mongodb_uptime_seconds", v)
	}
	version, _ := status.Lookup("version").StringValueOK()
	r.Add("saypro_mongodb_info", 1, "version", version)

	if okCur && okAvail && current+available > 0 && available*100 < mongoMinAvailablePercent*(current+available) {
		r.Warnf("only %.0f of %.0f connections available (below %d%%)", available, current+available, mongoMinAvailablePercent)
	}
}

// mongoNumber reads a BSON number of any type as a float.
func mongoNumber(v bson.RawValue) (float64, bool) {
	if f, ok := v.DoubleOK(); ok {
		return f, true
	}
	if i, ok := v.AsInt64OK(); ok {
		return float64(i), true
	}
	if d, ok := v.Decimal128OK(); ok {
		f, err := strconv.ParseFloat(d.String(), 64)
		return f, err == nil
	}
	return 0, false
}

// mongoReason words a driver error: the unreachable servers with their
// network error, the server's own error, or an authentication failure.
func mongoReason(err error, timeout time.Duration) string {
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) {
		var parts []string
		for _, s := range sse.Desc.Servers {
			if s.LastError != nil {
				parts = append(parts, fmt.Sprintf("%s: %s", s.Addr, mongoReason(s.LastError, timeout)))
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "; ")
		}
		servers := make([]string, 0, len(sse.Desc.Servers))
		for _, s := range sse.Desc.Servers {
			servers = append(servers, s.Addr.String())
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, topology.ErrServerSelectionTimeout) {
			return fmt.Sprintf("timed out after %s: no suitable server answered (%s: %s)", roundDuration(timeout), sse.Desc.Kind, strings.Join(servers, ", "))
		}
		return fmt.Sprintf("no suitable server (%s: %s): %v", sse.Desc.Kind, strings.Join(servers, ", "), sse.Wrapped)
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		msg := ae.Error()
		// "auth error: sasl conversation error: unable to authenticate
		// using mechanism "SCRAM-SHA-256": (AuthenticationFailed) ...".
		if i := strings.LastIndex(msg, ": ("); i >= 0 {
			msg = msg[i+2:]
		}
		return "authentication failed: " + msg
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	return kvNetReason(err, timeout)
}
