package probe

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// There is no MongoDB server here; mongoFake speaks enough of the wire
// protocol for the real driver: OP_QUERY (the legacy isMaster of the
// handshake) answered with OP_REPLY, and OP_MSG for everything else.
const (
	mongoOpReply = 1
	mongoOpQuery = 2004
	mongoOpMsg   = 2013
)

// mongoFakeCommand is one command the fake received.
type mongoFakeCommand struct {
	OpCode int32
	Name   string
	DB     string
	Doc    bson.Raw
}

type mongoFake struct {
	t    *testing.T
	l    net.Listener
	addr string
	// silent accepts connections and never answers.
	silent bool
	// reply overrides the answer to a command (by lower-case name).
	reply map[string]bson.D

	mu       sync.Mutex
	commands []mongoFakeCommand
	conns    []net.Conn
	wg       sync.WaitGroup
}

// mongoFakeStart listens on 127.0.0.1:0; configure adjusts the fake
// before it serves.
func mongoFakeStart(t *testing.T, configure func(*mongoFake)) *mongoFake {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &mongoFake{t: t, l: l, addr: l.Addr().String(), reply: map[string]bson.D{}}
	if configure != nil {
		configure(f)
	}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		_ = l.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *mongoFake) accept() {
	defer f.wg.Done()
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			if f.silent {
				_, _ = io.Copy(io.Discard, c)
				return
			}
			if err := f.serve(c); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				f.t.Errorf("fake mongodb: %v", err)
			}
		}()
	}
}

// Commands returns what the fake received so far.
func (f *mongoFake) Commands() []mongoFakeCommand {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.commands)
}

func (f *mongoFake) serve(c net.Conn) error {
	var header [16]byte
	for {
		if _, err := io.ReadFull(c, header[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err) {
				return io.EOF
			}
			return err
		}
		length := int32(binary.LittleEndian.Uint32(header[0:]))
		requestID := int32(binary.LittleEndian.Uint32(header[4:]))
		opCode := int32(binary.LittleEndian.Uint32(header[12:]))
		if length < 16 || length > 48e6 {
			return fmt.Errorf("message length %d", length)
		}
		body := make([]byte, length-16)
		if _, err := io.ReadFull(c, body); err != nil {
			return io.EOF
		}
		var (
			doc        bson.Raw
			moreToCome bool
			err        error
		)
		switch opCode {
		case mongoOpQuery:
			doc, err = mongoFakeParseQuery(body)
		case mongoOpMsg:
			doc, moreToCome, err = mongoFakeParseMsg(body)
		default:
			err = fmt.Errorf("unexpected opCode %d", opCode)
		}
		if err != nil {
			return err
		}
		if err := doc.Validate(); err != nil {
			return fmt.Errorf("invalid BSON command: %w", err)
		}
		elems, err := doc.Elements()
		if err != nil || len(elems) == 0 {
			return fmt.Errorf("empty command document")
		}
		cmd := mongoFakeCommand{OpCode: opCode, Name: elems[0].Key(), Doc: doc}
		cmd.DB, _ = doc.Lookup("$db").StringValueOK()
		f.mu.Lock()
		f.commands = append(f.commands, cmd)
		f.mu.Unlock()
		if moreToCome {
			continue
		}
		reply, err := bson.Marshal(f.answer(cmd))
		if err != nil {
			return err
		}
		var out []byte
		if opCode == mongoOpQuery {
			out = mongoFakeMessage(requestID, mongoOpReply, func(b []byte) []byte {
				b = binary.LittleEndian.AppendUint32(b, 0) // responseFlags
				b = binary.LittleEndian.AppendUint64(b, 0) // cursorID
				b = binary.LittleEndian.AppendUint32(b, 0) // startingFrom
				b = binary.LittleEndian.AppendUint32(b, 1) // numberReturned
				return append(b, reply...)
			})
		} else {
			out = mongoFakeMessage(requestID, mongoOpMsg, func(b []byte) []byte {
				b = binary.LittleEndian.AppendUint32(b, 0) // flagBits
				b = append(b, 0)                           // section kind 0: body
				return append(b, reply...)
			})
		}
		if _, err := c.Write(out); err != nil {
			return io.EOF
		}
	}
}

func isConnReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne)
}

// mongoFakeMessage frames a reply to requestID.
func mongoFakeMessage(responseTo, opCode int32, body func([]byte) []byte) []byte {
	b := make([]byte, 16, 256)
	b = body(b)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(responseTo+1000))
	binary.LittleEndian.PutUint32(b[8:], uint32(responseTo))
	binary.LittleEndian.PutUint32(b[12:], uint32(opCode))
	return b
}

// mongoFakeParseQuery reads OP_QUERY: flags, fullCollectionName,
// numberToSkip, numberToReturn, query.
func mongoFakeParseQuery(body []byte) (bson.Raw, error) {
	if len(body) < 4 {
		return nil, errors.New("short OP_QUERY")
	}
	rest := body[4:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return nil, errors.New("OP_QUERY without collection name")
	}
	collection := string(rest[:end])
	rest = rest[end+1:]
	if len(rest) < 8 {
		return nil, errors.New("short OP_QUERY")
	}
	doc, err := mongoFakeDoc(rest[8:])
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(collection, ".$cmd") {
		return nil, fmt.Errorf("OP_QUERY on %q, not a command", collection)
	}
	// A command wrapped for mongos: {$query: {...}, $readPreference: ...}.
	if q, ok := doc.Lookup("$query").DocumentOK(); ok {
		doc = q
	}
	// Give it a $db like OP_MSG commands have.
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	d = append(d, bson.E{Key: "$db", Value: strings.TrimSuffix(collection, ".$cmd")})
	return bson.Marshal(d)
}

// mongoFakeParseMsg reads OP_MSG: flagBits, sections, optional checksum.
func mongoFakeParseMsg(body []byte) (bson.Raw, bool, error) {
	if len(body) < 5 {
		return nil, false, errors.New("short OP_MSG")
	}
	flags := binary.LittleEndian.Uint32(body)
	if flags&1 != 0 { // checksumPresent
		body = body[:len(body)-4]
	}
	rest := body[4:]
	var doc bson.Raw
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		switch kind {
		case 0:
			d, err := mongoFakeDoc(rest)
			if err != nil {
				return nil, false, err
			}
			doc, rest = d, rest[len(d):]
		case 1:
			if len(rest) < 4 {
				return nil, false, errors.New("short document sequence")
			}
			size := int(binary.LittleEndian.Uint32(rest))
			if size < 4 || size > len(rest) {
				return nil, false, errors.New("bad document sequence size")
			}
			rest = rest[size:]
		default:
			return nil, false, fmt.Errorf("unknown OP_MSG section kind %d", kind)
		}
	}
	if doc == nil {
		return nil, false, errors.New("OP_MSG without a body section")
	}
	return doc, flags&2 != 0, nil
}

func mongoFakeDoc(b []byte) (bson.Raw, error) {
	if len(b) < 5 {
		return nil, errors.New("short document")
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 5 || n > len(b) {
		return nil, fmt.Errorf("document length %d of %d bytes", n, len(b))
	}
	return bson.Raw(b[:n]), nil
}

// answer is the reply to a command: a standalone mongod 7.0.
func (f *mongoFake) answer(cmd mongoFakeCommand) bson.D {
	name := strings.ToLower(cmd.Name)
	if d, ok := f.reply[name]; ok {
		return d
	}
	switch name {
	case "ismaster", "hello":
		d := bson.D{
			{Key: "helloOk", Value: true},
			{Key: "ismaster", Value: true},
			{Key: "isWritablePrimary", Value: true},
			{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
			{Key: "maxMessageSizeBytes", Value: int32(48000000)},
			{Key: "maxWriteBatchSize", Value: int32(100000)},
			{Key: "localTime", Value: primitive.NewDateTimeFromTime(time.Now())},
			{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
			{Key: "connectionId", Value: int32(len(f.Commands()))},
			{Key: "minWireVersion", Value: int32(0)},
			{Key: "maxWireVersion", Value: int32(17)},
			{Key: "readOnly", Value: false},
		}
		if _, ok := cmd.Doc.Lookup("saslSupportedMechs").StringValueOK(); ok {
			d = append(d, bson.E{Key: "saslSupportedMechs", Value: bson.A{"SCRAM-SHA-1", "SCRAM-SHA-256"}})
		}
		return append(d, bson.E{Key: "ok", Value: 1.0})
	case "ping", "endsessions":
		return bson.D{{Key: "ok", Value: 1.0}}
	case "buildinfo":
		return bson.D{{Key: "version", Value: "7.0.14"}, {Key: "versionArray", Value: bson.A{int32(7), int32(0), int32(14), int32(0)}}, {Key: "ok", Value: 1.0}}
	case "serverstatus":
		return mongoFakeServerStatus(52, 51148, 1234)
	case "saslstart", "authenticate":
		return bson.D{
			{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "Authentication failed."},
			{Key: "code", Value: int32(18)}, {Key: "codeName", Value: "AuthenticationFailed"},
		}
	}
	return bson.D{
		{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: fmt.Sprintf("no such command: '%s'", cmd.Name)},
		{Key: "code", Value: int32(59)}, {Key: "codeName", Value: "CommandNotFound"},
	}
}

// mongoFakeServerStatus is serverStatus as a mongod 7.0 writes it, with
// the numeric types it uses.
func mongoFakeServerStatus(current, available int32, created int64) bson.D {
	op := func(latency, ops int64) bson.D {
		return bson.D{{Key: "latency", Value: latency}, {Key: "ops", Value: ops}}
	}
	return bson.D{
		{Key: "host", Value: "db1:27017"},
		{Key: "version", Value: "7.0.14"},
		{Key: "process", Value: "mongod"},
		{Key: "pid", Value: int64(4242)},
		{Key: "uptime", Value: 86400.0},
		{Key: "uptimeMillis", Value: int64(86400123)},
		{Key: "uptimeEstimate", Value: int64(86400)},
		{Key: "localTime", Value: primitive.NewDateTimeFromTime(time.Now())},
		{Key: "asserts", Value: bson.D{{Key: "regular", Value: int32(0)}, {Key: "warning", Value: int32(0)}}},
		{Key: "connections", Value: bson.D{
			{Key: "current", Value: current},
			{Key: "available", Value: available},
			{Key: "totalCreated", Value: created},
			{Key: "rejected", Value: int64(0)},
			{Key: "active", Value: int32(3)},
			{Key: "threaded", Value: current},
			{Key: "exhaustIsMaster", Value: int64(0)},
			{Key: "exhaustHello", Value: int64(2)},
			{Key: "awaitingTopologyChanges", Value: int64(2)},
		}},
		{Key: "opLatencies", Value: bson.D{
			{Key: "reads", Value: op(2500000, 1000)},
			{Key: "writes", Value: op(750000, 300)},
			{Key: "commands", Value: op(125000, 5000)},
			{Key: "transactions", Value: op(0, 0)},
		}},
		{Key: "opcounters", Value: bson.D{{Key: "insert", Value: int64(300)}, {Key: "query", Value: int64(1000)}}},
		{Key: "ok", Value: 1.0},
	}
}

// mongoTestProbe builds and runs a mongodb check once.
func mongoTestProbe(t *testing.T, target string, cfg *checkconfig.MongoDB, env Env, timeout time.Duration) (Result, Outcome) {
	t.Helper()
	c := &checkconfig.Check{
		Name: "db", Kind: checkconfig.KindMongoDB, Target: target, MongoDB: cfg,
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout,
	}
	require.Empty(t, c.Validate("checks", 0))
	p, err := New(c, env)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx)
	return r, Evaluate(c, "server", start, time.Since(start), r)
}

func TestMongoDBProbe(t *testing.T) {
	f := mongoFakeStart(t, nil)
	before := runtime.NumGoroutine()
	r, o := mongoTestProbe(t, "mongodb://"+f.addr+"/?directConnection=true", nil, Env{}, 5*time.Second)
	require.True(t, r.Success, r.Reason)
	require.Equal(t, StateUp, o.State, o.Reason)
	require.Positive(t, r.Latency)

	want := []Metric{
		{Name: "saypro_mongodb_connections", Labels: []Label{{"state", "current"}}, Value: 52},
		{Name: "saypro_mongodb_connections", Labels: []Label{{"state", "available"}}, Value: 51148},
		{Name: "saypro_mongodb_connections_created_total", Value: 1234},
		{Name: "saypro_mongodb_op_latency_seconds_total", Labels: []Label{{"op", "reads"}}, Value: 2.5},
		{Name: "saypro_mongodb_ops_total", Labels: []Label{{"op", "reads"}}, Value: 1000},
		{Name: "saypro_mongodb_op_latency_seconds_total", Labels: []Label{{"op", "writes"}}, Value: 0.75},
		{Name: "saypro_mongodb_ops_total", Labels: []Label{{"op", "writes"}}, Value: 300},
		{Name: "saypro_mongodb_op_latency_seconds_total", Labels: []Label{{"op", "commands"}}, Value: 0.125},
		{Name: "saypro_mongodb_ops_total", Labels: []Label{{"op", "commands"}}, Value: 5000},
		{Name: "saypro_mongodb_uptime_seconds", Value: 86400},
		{Name: "saypro_mongodb_info", Labels: []Label{{"version", "7.0.14"}}, Value: 1},
	}
	require.Equal(t, "saypro_mongodb_ping_duration_seconds", r.Metrics[0].Name)
	require.InDelta(t, r.Latency.Seconds(), r.Metrics[0].Value, 1e-9)
	require.Equal(t, want, r.Metrics[1:])

	// The driver's real requests: the handshake over OP_QUERY, then ping
	// and serverStatus as OP_MSG on admin.
	cmds := f.Commands()
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	require.Equal(t, "isMaster", cmds[0].Name, names)
	require.Equal(t, int32(mongoOpQuery), cmds[0].OpCode)
	require.Equal(t, "admin", cmds[0].DB)
	appName, _ := cmds[0].Doc.Lookup("client", "application", "name").StringValueOK()
	require.Equal(t, mongoAppName, appName)
	pings := slices.DeleteFunc(slices.Clone(cmds), func(c mongoFakeCommand) bool { return c.Name != "ping" })
	require.Len(t, pings, 2, names)
	for _, c := range pings {
		require.Equal(t, int32(mongoOpMsg), c.OpCode)
		require.Equal(t, "admin", c.DB)
	}
	i := slices.IndexFunc(cmds, func(c mongoFakeCommand) bool { return c.Name == "serverStatus" })
	require.GreaterOrEqual(t, i, 0, names)
	require.Equal(t, int32(mongoOpMsg), cmds[i].OpCode)
	require.Equal(t, "admin", cmds[i].DB)
	_, err := cmds[i].Doc.LookupErr("lsid")
	require.NoError(t, err, "the driver sends an implicit session")

	// Disconnect ended the session and stopped the monitors.
	require.Eventually(t, func() bool {
		return slices.ContainsFunc(f.Commands(), func(c mongoFakeCommand) bool { return c.Name == "endSessions" })
	}, 2*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 3*time.Second, 20*time.Millisecond,
		"goroutines before %d, now %d", before, runtime.NumGoroutine())
}

func TestMongoDBStates(t *testing.T) {
	env := Env{Getenv: func(name string) string {
		if name == "MONGO_PASSWORD" {
			return "env-Pa55word"
		}
		return ""
	}}
	unauthorized := bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: "not authorized on admin to execute command { serverStatus: 1, $db: \"admin\" }"},
		{Key: "code", Value: int32(13)}, {Key: "codeName", Value: "Unauthorized"},
	}
	for _, tc := range []struct {
		name    string
		reply   map[string]bson.D
		uri     string // %s is the fake's address
		cfg     *checkconfig.MongoDB
		state   State
		reason  string
		secrets []string // must appear in no reason
		saw     string   // a command the fake must have received
	}{
		{
			name:  "few connections available",
			reply: map[string]bson.D{"serverstatus": mongoFakeServerStatus(950, 50, 2000)},
			state: StateDegraded, reason: "only 50 of 1000 connections available (below 10%)",
		},
		{
			name:  "serverStatus not authorized",
			reply: map[string]bson.D{"serverstatus": unauthorized},
			state: StateDegraded, reason: "serverStatus failed: (Unauthorized) not authorized on admin", saw: "serverStatus",
		},
		{
			name: "wrong password in URI", uri: "mongodb://monitor:uri-Pa55word@%s/?directConnection=true",
			state: StateDown, reason: "authentication failed: (AuthenticationFailed) Authentication failed.",
			secrets: []string{"uri-Pa55word"}, saw: "saslStart",
		},
		{
			name: "password_env", cfg: &checkconfig.MongoDB{Username: "monitor", PasswordEnv: "MONGO_PASSWORD"},
			state: StateDown, reason: "authentication failed: (AuthenticationFailed) Authentication failed.",
			secrets: []string{"env-Pa55word"}, saw: "saslStart",
		},
		{
			name: "password_env unset", cfg: &checkconfig.MongoDB{Username: "monitor", PasswordEnv: "UNSET"},
			state: StateDown, reason: "password_env: environment variable UNSET is empty or not set",
		},
		{
			name:  "ping refused",
			reply: map[string]bson.D{"ping": {{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "node is shutting down"}, {Key: "code", Value: int32(91)}, {Key: "codeName", Value: "ShutdownInProgress"}}},
			state: StateDown, reason: "(ShutdownInProgress) node is shutting down",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mongoFakeStart(t, func(f *mongoFake) {
				if tc.reply != nil {
					f.reply = tc.reply
				}
			})
			uri := cmp.Or(tc.uri, "mongodb://%s/?directConnection=true")
			r, o := mongoTestProbe(t, fmt.Sprintf(uri, f.addr), tc.cfg, env, 5*time.Second)
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			require.Equal(t, tc.state != StateDown, r.Success)
			for _, s := range tc.secrets {
				require.NotContains(t, o.Reason, s)
				require.NotContains(t, o.Target, s)
			}
			if tc.saw != "" {
				require.True(t, slices.ContainsFunc(f.Commands(), func(c mongoFakeCommand) bool { return c.Name == tc.saw }), tc.saw)
			}
			if tc.saw == "saslStart" {
				// SCRAM's first message names the user: n,,n=monitor,r=...
				i := slices.IndexFunc(f.Commands(), func(c mongoFakeCommand) bool { return c.Name == "saslStart" })
				_, payload := f.Commands()[i].Doc.Lookup("payload").Binary()
				require.Contains(t, string(payload), "n=monitor,")
			}
		})
	}
}

func TestMongoDBUnreachable(t *testing.T) {
	// Nothing listening.
	addr := redisTestFreeAddr(t)
	r, o := mongoTestProbe(t, "mongodb://"+addr+"/?directConnection=true", nil, Env{}, 3*time.Second)
	require.False(t, r.Success)
	require.Equal(t, StateDown, o.State)
	require.Contains(t, o.Reason, addr+": connection refused")

	// Accepts and never answers: down at the deadline, not later.
	f := mongoFakeStart(t, func(f *mongoFake) { f.silent = true })
	start := time.Now()
	r, o = mongoTestProbe(t, "mongodb://"+f.addr+"/?directConnection=true", nil, Env{}, 500*time.Millisecond)
	took := time.Since(start)
	require.False(t, r.Success)
	require.Equal(t, StateDown, o.State)
	require.Contains(t, o.Reason, "timed out after")
	require.Contains(t, o.Reason, f.addr)
	require.GreaterOrEqual(t, took, 450*time.Millisecond)
	require.Less(t, took, 3*time.Second)
}

func TestNewMongoDB(t *testing.T) {
	for _, tc := range []struct {
		target string
		cfg    *checkconfig.MongoDB
		err    string
	}{
		{target: "mongodb://db1:27017"},
		{target: "mongodb://monitor:pw@db1:27017,db2:27017/?replicaSet=rs0&authSource=admin"},
		{target: "mongodb+srv://cluster0.example.net"},
		{target: "mongodb://db1", cfg: &checkconfig.MongoDB{Username: "monitor", PasswordEnv: "X"}},
		{target: "mongodb://monitor@db1", cfg: &checkconfig.MongoDB{PasswordEnv: "X"}},
		{target: "http://db1", err: "not a mongodb:// or mongodb+srv:// URI"},
		{target: "db1:27017", err: "not a mongodb:// or mongodb+srv:// URI"},
		{target: "mongodb://u:p%zz@db1", err: "not a mongodb:// or mongodb+srv:// URI"},
		{target: "mongodb://u:Secret99@db1/?authMechanism=BOGUS", err: "target:"},
		{target: "mongodb://db1", cfg: &checkconfig.MongoDB{Password: "Secret99"}, err: "a password needs a user name"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			c := &checkconfig.Check{Name: "db", Kind: checkconfig.KindMongoDB, Target: tc.target, MongoDB: tc.cfg}
			_, err := newMongoDB(c, Env{})
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
			require.NotContains(t, err.Error(), "Secret99")
			require.NotContains(t, err.Error(), "p%zz")
		})
	}
}

func TestEvaluateMongoStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  bson.D
		warning string
		metrics int
	}{
		{name: "plenty", status: mongoFakeServerStatus(10, 990, 20), metrics: 11},
		{name: "exactly 10%", status: mongoFakeServerStatus(900, 100, 20), metrics: 11},
		{name: "below 10%", status: mongoFakeServerStatus(901, 99, 20), warning: "only 99 of 1000 connections available (below 10%)", metrics: 11},
		{name: "empty", status: bson.D{{Key: "ok", Value: 1.0}}, metrics: 1},
		{
			name: "other number types", metrics: 4,
			status: bson.D{{Key: "connections", Value: bson.D{
				{Key: "current", Value: 5.0}, {Key: "available", Value: int64(0)},
				{Key: "totalCreated", Value: primitive.NewDecimal128(0, 7)},
			}}},
			warning: "only 0 of 5 connections available (below 10%)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := bson.Marshal(tc.status)
			require.NoError(t, err)
			var r Result
			evaluateMongoStatus(&r, raw)
			require.Equal(t, tc.warning, r.Warning)
			require.Len(t, r.Metrics, tc.metrics)
		})
	}
}
