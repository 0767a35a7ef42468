package alerting

import (
	"bytes"
	_ "embed" // the rule pack's template
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/saypro/monitor/internal/config"
)

//go:embed builtin.yml.tmpl
var builtinTemplate string

// builtinData is what the pack's template reads: the thresholds as they
// are written in PromQL.
type builtinData struct {
	CPUPercent, DiskFreePercent, DiskFillHours, DiskFillSeconds, InodesFreePercent string
	MemoryAvailablePercent, SwapPagesPerSecond, RebootWindowSeconds                string
	WebLatencySeconds, DatabaseLatencySeconds, LockWaits, CertExpiryDays           string
	CertExpirySeconds, NetworkErrorsPerSecond, PacketLossPercent                   string
	CPUFor, RebootWindow, CheckDownFor, CheckDegradedFor                           model.Duration
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// RenderBuiltin renders the built-in rule pack with c's thresholds,
// leaving out the alerts c disables and those in skip (replaced by the
// user's own rules).
func RenderBuiltin(c config.BuiltinRulesConfig, skip map[string]bool) ([]byte, error) {
	t := c.Thresholds
	data := builtinData{
		CPUPercent: num(t.CPUPercent), DiskFreePercent: num(t.DiskFreePercent),
		DiskFillHours: num(t.DiskFillHours), DiskFillSeconds: num(t.DiskFillHours * 3600),
		InodesFreePercent: num(t.InodesFreePercent), MemoryAvailablePercent: num(t.MemoryAvailablePercent),
		SwapPagesPerSecond: num(t.SwapPagesPerSecond), RebootWindowSeconds: num(time.Duration(t.RebootWindow).Seconds()),
		WebLatencySeconds: num(t.WebLatencySeconds), DatabaseLatencySeconds: num(t.DatabaseLatencySeconds),
		LockWaits: num(t.LockWaits), CertExpiryDays: num(t.CertExpiryDays), CertExpirySeconds: num(t.CertExpiryDays * 86400),
		NetworkErrorsPerSecond: num(t.NetworkErrorsPerSecond), PacketLossPercent: num(t.PacketLossPercent),
		CPUFor: t.CPUFor, RebootWindow: t.RebootWindow, CheckDownFor: t.CheckDownFor, CheckDegradedFor: t.CheckDegradedFor,
	}
	on := func(name string) bool { return !slices.Contains(c.Disabled, name) && !skip[name] }
	tmpl, err := template.New("builtin").Delims("[[", "]]").Funcs(template.FuncMap{"on": on}).Parse(builtinTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	if _, errs := rulefmt.Parse(b.Bytes(), false, model.UTF8Validation); len(errs) > 0 {
		return nil, fmt.Errorf("the built-in rule pack does not parse (a bug): %v", errs[0])
	}
	return b.Bytes(), nil
}

// writeBuiltin writes the rendered pack to path atomically.
func writeBuiltin(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
