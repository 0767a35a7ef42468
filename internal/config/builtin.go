package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/config/yamlconf"
)

// BuiltinAlerts are the alerts of the built-in rule pack.
var BuiltinAlerts = []string{
	"HostHighCPU", "HostDiskSpaceLow", "HostDiskWillFillIn24h", "HostInodesLow", "HostMemoryPressure",
	"HostSwapping", "HostDown", "HostRebooted", "NetworkErrors",
	"CheckDown", "CheckDegraded", "WebLatencyHigh", "DatabaseSlow", "DatabaseDeadlocks",
	"DatabaseLockWaits", "CertificateExpiringSoon", "HeartbeatMissed", "PacketLoss",
}

// DefaultBuiltinRules turns the pack on with the operating procedures'
// thresholds: CPU over 85 %, disk free under 10 %, latency over 3 s,
// database response over 500 ms, certificates expiring within 14 days.
var DefaultBuiltinRules = BuiltinRulesConfig{
	Enabled: true,
	Thresholds: RuleThresholds{
		CPUPercent:             85,
		CPUFor:                 model.Duration(5 * time.Minute),
		DiskFreePercent:        10,
		DiskFillHours:          24,
		InodesFreePercent:      10,
		MemoryAvailablePercent: 10,
		SwapPagesPerSecond:     100,
		RebootWindow:           model.Duration(10 * time.Minute),
		CheckDownFor:           model.Duration(time.Minute),
		CheckDegradedFor:       model.Duration(5 * time.Minute),
		WebLatencySeconds:      3,
		DatabaseLatencySeconds: 0.5,
		LockWaits:              0,
		CertExpiryDays:         14,
		NetworkErrorsPerSecond: 1,
		PacketLossPercent:      5,
	},
}

// BuiltinRulesConfig configures the built-in rule pack.
type BuiltinRulesConfig struct {
	// Enabled turns the whole pack on (the default).
	Enabled bool `yaml:"enabled"`
	// Disabled lists alerts of the pack to leave out. A rule of your own
	// with the same alert name in rule_files replaces the built-in one.
	Disabled []string `yaml:"disabled,omitempty"`
	// Thresholds of the pack's rules.
	Thresholds RuleThresholds `yaml:"thresholds"`
}

// RuleThresholds are the values of the built-in rules.
type RuleThresholds struct {
	CPUPercent             float64        `yaml:"cpu_percent"`
	CPUFor                 model.Duration `yaml:"cpu_for"`
	DiskFreePercent        float64        `yaml:"disk_free_percent"`
	DiskFillHours          float64        `yaml:"disk_fill_hours"`
	InodesFreePercent      float64        `yaml:"inodes_free_percent"`
	MemoryAvailablePercent float64        `yaml:"memory_available_percent"`
	SwapPagesPerSecond     float64        `yaml:"swap_pages_per_second"`
	RebootWindow           model.Duration `yaml:"reboot_window"`
	CheckDownFor           model.Duration `yaml:"check_down_for"`
	CheckDegradedFor       model.Duration `yaml:"check_degraded_for"`
	WebLatencySeconds      float64        `yaml:"web_latency_seconds"`
	DatabaseLatencySeconds float64        `yaml:"database_latency_seconds"`
	LockWaits              float64        `yaml:"lock_waits"`
	CertExpiryDays         float64        `yaml:"cert_expiry_days"`
	NetworkErrorsPerSecond float64        `yaml:"network_errors_per_second"`
	PacketLossPercent      float64        `yaml:"packet_loss_percent"`
}

// UnmarshalYAML sets the defaults before decoding.
func (c *BuiltinRulesConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultBuiltinRules
	type plain BuiltinRulesConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *RuleThresholds) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultBuiltinRules.Thresholds
	type plain RuleThresholds
	return unmarshal((*plain)(c))
}

func (c *BuiltinRulesConfig) validate() []error {
	var errs []error
	for _, name := range c.Disabled {
		if !slices.Contains(BuiltinAlerts, name) {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("unknown built-in alert %q; the pack has %s", name, strings.Join(BuiltinAlerts, ", ")), "builtin_rules", "disabled"))
		}
	}
	t := c.Thresholds
	const (
		percent  = "must be between 0 and 100 (exclusive)"
		positive = "must be positive"
		nonNeg   = "must not be negative"
	)
	for _, v := range []struct {
		key   string
		value float64
		rule  string
	}{
		{"cpu_percent", t.CPUPercent, percent},
		{"disk_free_percent", t.DiskFreePercent, percent},
		{"inodes_free_percent", t.InodesFreePercent, percent},
		{"memory_available_percent", t.MemoryAvailablePercent, percent},
		{"packet_loss_percent", t.PacketLossPercent, percent},
		{"disk_fill_hours", t.DiskFillHours, positive},
		{"swap_pages_per_second", t.SwapPagesPerSecond, positive},
		{"web_latency_seconds", t.WebLatencySeconds, positive},
		{"database_latency_seconds", t.DatabaseLatencySeconds, positive},
		{"cert_expiry_days", t.CertExpiryDays, positive},
		{"network_errors_per_second", t.NetworkErrorsPerSecond, positive},
		{"lock_waits", t.LockWaits, nonNeg},
		{"cpu_for", float64(t.CPUFor), nonNeg},
		{"reboot_window", float64(t.RebootWindow), nonNeg},
		{"check_down_for", float64(t.CheckDownFor), nonNeg},
		{"check_degraded_for", float64(t.CheckDegradedFor), nonNeg},
	} {
		bad := v.value < 0
		switch v.rule {
		case percent:
			bad = v.value <= 0 || v.value >= 100
		case positive:
			bad = v.value <= 0
		}
		if bad {
			errs = append(errs, yamlconf.Field(v.rule, "builtin_rules", "thresholds", v.key))
		}
	}
	return errs
}
