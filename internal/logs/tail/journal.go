package tail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/agentapi"
)

// journalSource is the source of every journal entry.
const journalSource = "journal"

// journalRestart is how long a failed journalctl waits before it is run
// again.
const journalRestart = 10 * time.Second

// severities are the syslog severity keywords by PRIORITY.
var severities = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// journalEntry is an entry and the cursor just after it.
type journalEntry struct {
	entry  agentapi.LogEntry
	cursor string
}

// journalCommand returns the journalctl to run, or "" when the journal is
// off: by configuration, because journalctl is missing or cannot read the
// journal, or (auto) because a syslog file has the same lines.
func (c *Collector) journalCommand(ctx context.Context) string {
	mode := c.cfg.Journal.Enabled
	if mode == "false" {
		return ""
	}
	path := c.o.journalctl
	if path == "" {
		p, err := exec.LookPath("journalctl")
		if err != nil {
			if mode == "true" {
				c.logger.Warn("logs.journal.enabled is true but journalctl is not installed; the journal is not read")
			}
			return ""
		}
		path = p
	}
	if mode == "auto" {
		for _, f := range c.o.syslogFiles {
			if _, err := os.Stat(f); err == nil {
				c.logger.Debug("not reading the journal: the syslog file has its lines", "file", f)
				return ""
			}
		}
		if !journalReadable(ctx, path) {
			c.logger.Info("not reading the journal: journalctl cannot read it (is the agent's user in the systemd-journal or adm group?)")
			return ""
		}
	}
	return path
}

// journalReadable reports whether journalctl shows at least one entry.
func journalReadable(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--lines=1", "--output=json", "--quiet", "--no-pager").Output()
	return err == nil && len(bytes.TrimSpace(out)) > 0
}

// journalArgs are journalctl's arguments to follow the journal after
// cursor (or from logs.journal.since without one).
func (c *Collector) journalArgs(cursor string) []string {
	args := []string{"--output=json", "--follow", "--no-tail", "--all", "--quiet", "--no-pager"}
	if cursor != "" {
		args = append(args, "--after-cursor="+cursor)
	} else {
		args = append(args, "--since="+c.cfg.Journal.Since)
	}
	for _, u := range c.cfg.Journal.Units {
		args = append(args, "--unit="+u)
	}
	return args
}

// runJournal runs journalctl until ctx is done, sending its entries to
// out, and runs it again (after the last entry read) when it stops.
func (c *Collector) runJournal(ctx context.Context, cursor string, out chan<- journalEntry) {
	failing := false
	for ctx.Err() == nil {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, c.journalc, c.journalArgs(cursor)...)
		cmd.Stderr = &limitedBuffer{b: &stderr, max: 4 << 10}
		cmd.WaitDelay = 5 * time.Second
		stdout, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			if !failing {
				c.logger.Info("reading the systemd journal", "journalctl", c.journalc, "after_cursor", cursor != "")
			}
			err = readJournal(stdout, c.maxLine, func(je journalEntry) bool {
				cursor = je.cursor
				select {
				case out <- je:
					return true
				case <-ctx.Done():
					return false
				}
			}, func(reason string) { c.m.linesDropped.WithLabelValues(journalSource, reason).Inc() })
			_ = stdout.Close()
			if werr := cmd.Wait(); err == nil {
				err = werr
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("journalctl exited")
		}
		c.logger.Warn("reading the journal failed; journalctl is run again", "err", err,
			"stderr", strings.TrimSpace(stderr.String()), "retry_in", journalRestart)
		failing = true
		t := time.NewTimer(journalRestart)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// readJournal reads journalctl's JSON lines from r and calls emit for each
// entry until it returns false or r ends. Lines that are too long or not
// entries are skipped and reported to drop with a reason.
func readJournal(r io.Reader, maxLine int, emit func(journalEntry) bool, drop func(reason string)) error {
	// A JSON line is longer than its message: escapes, byte arrays
	// (up to 4 bytes per byte) and the other fields.
	limit := 5*maxLine + 64<<10
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit {
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			drop("too_long")
		} else if len(bytes.TrimSpace(line)) > 0 {
			je, perr := parseJournal(line, maxLine)
			if perr != nil {
				drop("unparsable")
			} else if !emit(je) {
				return nil
			}
		}
		line, tooLong = line[:0], false
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// parseJournal decodes one entry of journalctl --output=json.
func parseJournal(line []byte, maxLine int) (journalEntry, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return journalEntry{}, err
	}
	cursor, _ := journalString(raw["__CURSOR"])
	if cursor == "" {
		return journalEntry{}, errors.New("journal entry without __CURSOR")
	}
	msg, _ := journalString(raw["MESSAGE"])
	msg = strings.TrimRight(msg, "\n")
	if len(msg) > maxLine {
		msg = strings.ToValidUTF8(msg[:maxLine], "") + truncatedMarker(int64(len(msg)-maxLine))
	}
	e := agentapi.LogEntry{Source: journalSource, Format: agentapi.FormatJournal, Message: msg}
	if us, ok := journalString(raw["__REALTIME_TIMESTAMP"]); ok {
		if n, err := strconv.ParseInt(us, 10, 64); err == nil {
			e.Time = time.UnixMicro(n).UTC()
		}
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if p, ok := journalString(raw["PRIORITY"]); ok {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n < len(severities) {
			e.Severity = severities[n]
		}
	}
	unit, _ := journalString(raw["_SYSTEMD_UNIT"])
	e.Service, _ = journalString(raw["SYSLOG_IDENTIFIER"])
	if e.Service == "" {
		e.Service = strings.TrimSuffix(unit, ".service")
	}
	if pid, ok := journalString(raw["_PID"]); ok && pid != "" {
		e.Fields = map[string]string{"pid": pid}
	}
	if unit != "" {
		if e.Fields == nil {
			e.Fields = map[string]string{}
		}
		e.Fields["unit"] = unit
	}
	return journalEntry{entry: e, cursor: cursor}, nil
}

// journalString decodes a journal field: a string, an array of bytes (a
// value that is binary or not UTF-8), or an array of values (a field set
// more than once, of which the first is kept).
func journalString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] == 'n' {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil || len(items) == 0 {
			return "", false
		}
		if first := bytes.TrimSpace(items[0]); len(first) > 0 && (first[0] == '"' || first[0] == '[') {
			return journalString(items[0])
		}
		b := make([]byte, 0, len(items))
		for _, it := range items {
			n, err := strconv.ParseUint(string(it), 10, 8)
			if err != nil {
				return "", false
			}
			b = append(b, byte(n))
		}
		return lineString(b), true
	}
	return "", false
}
