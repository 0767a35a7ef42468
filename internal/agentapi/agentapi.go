// Package agentapi holds the wire types that the agent and the server
// exchange besides remote-write samples, so that neither package imports
// the other. Everything here is JSON over HTTP with the agent's bearer token.
package agentapi

import (
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// HeartbeatPath is the server endpoint an agent posts its Heartbeat to.
const HeartbeatPath = "/api/v1/agent/heartbeat"

// Heartbeat is what an agent reports about its host when it starts and then
// at every heartbeat interval. The server keeps the latest one per Instance
// in its host inventory, and compares BootTime and AgentStartTime with the
// previous report to record reboots and agent restarts.
type Heartbeat struct {
	// Instance is the host's identity: the instance label of its series.
	Instance string `json:"instance"`
	// Hostname is the kernel's host name (uname nodename).
	Hostname string `json:"hostname"`
	// OS is the distribution's pretty name, for example "Debian GNU/Linux 12 (bookworm)".
	OS string `json:"os"`
	// OSID and OSVersion are ID and VERSION_ID from os-release.
	OSID      string `json:"os_id,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
	// Kernel is the kernel release (uname -r).
	Kernel string `json:"kernel"`
	// Arch is the machine architecture (uname -m).
	Arch string `json:"arch"`
	// CPUs is the number of online logical CPUs.
	CPUs int `json:"cpus"`
	// MemoryBytes is MemTotal.
	MemoryBytes uint64 `json:"memory_bytes"`
	// AgentVersion is the agent's version string.
	AgentVersion string `json:"agent_version"`
	// AgentStartTime is when this agent process started; a new value means
	// the agent restarted.
	AgentStartTime time.Time `json:"agent_start_time"`
	// BootTime is when the host booted; a new value means it rebooted.
	BootTime time.Time `json:"boot_time"`
	// Labels are the user labels the agent adds to every series.
	Labels map[string]string `json:"labels,omitempty"`
	// Interval is how often the agent sends a heartbeat, so the server can
	// tell a silent host from a slow one.
	Interval Duration `json:"interval_seconds"`
	// Time is when the agent built this heartbeat.
	Time time.Time `json:"time"`
}

// HeartbeatResponse is the server's answer to a Heartbeat.
type HeartbeatResponse struct {
	// ServerTime lets the agent report its clock offset.
	ServerTime time.Time `json:"server_time"`
	// Checks are the health checks this agent runs: those whose run_on
	// selects its labels. Nil when the server has none for it; the agent
	// replaces its set with every response.
	Checks []checkconfig.Check `json:"checks,omitempty"`
}

// CheckResultsPath is the server endpoint an agent posts CheckResults to.
const CheckResultsPath = "/api/v1/agent/checks"

// CheckResults are the outcomes of checks an agent ran since its last
// report. Their samples travel by remote-write like the host's; these
// carry the state and its reason, from which the server keeps each
// check's history.
type CheckResults struct {
	Instance string        `json:"instance"`
	Results  []CheckResult `json:"results"`
}

// CheckResult is one run of a check.
type CheckResult struct {
	Check    string    `json:"check"`
	Time     time.Time `json:"time"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Duration Duration  `json:"duration_seconds"`
}

// Duration is a time.Duration written in JSON as a number of seconds.
type Duration float64

// D converts the duration to a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(float64(d) * float64(time.Second)) }

// Seconds makes a Duration from a time.Duration.
func Seconds(d time.Duration) Duration { return Duration(d.Seconds()) }
