package collector

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// HostInfo describes the host for the agent's heartbeat.
type HostInfo struct {
	// Hostname is uname's nodename.
	Hostname string
	// OS is os-release's PRETTY_NAME, OSID its ID and OSVersion its
	// VERSION_ID; all empty if os-release cannot be read.
	OS, OSID, OSVersion string
	// Kernel is the kernel release (uname -r).
	Kernel string
	// Arch is the machine architecture (uname -m).
	Arch string
	// CPUs is the number of online logical CPUs.
	CPUs int
	// MemoryBytes is MemTotal from /proc/meminfo.
	MemoryBytes uint64
	// BootTime is when the host booted (btime in /proc/stat).
	BootTime time.Time
}

// HostInfo returns the host's identity. It reads a few small files and does
// not wait for a collection in progress; os-release is cached.
func (n *Node) HostInfo() (HostInfo, error) {
	e := n.env
	var h HostInfo
	var u unix.Utsname
	if err := e.uname(&u); err != nil {
		return h, fmt.Errorf("uname: %w", err)
	}
	h.Hostname = unix.ByteSliceToString(u.Nodename[:])
	h.Kernel = unix.ByteSliceToString(u.Release[:])
	h.Arch = unix.ByteSliceToString(u.Machine[:])
	if rel, err := e.osRelease.get(e); err == nil {
		h.OS, h.OSID, h.OSVersion = rel.fields["PRETTY_NAME"], rel.fields["ID"], rel.fields["VERSION_ID"]
		if h.OS == "" {
			h.OS = rel.fields["NAME"]
		}
	}
	stat, err := os.ReadFile(e.procPath("stat"))
	if err != nil {
		return h, err
	}
	ks, err := parseKernelStats(stat)
	if err != nil {
		return h, err
	}
	if ks.have&haveBootTime == 0 {
		return h, malformed("stat", "no btime line")
	}
	h.BootTime = time.Unix(int64(ks.bootTime), 0)
	meminfo, err := os.ReadFile(e.procPath("meminfo"))
	if err != nil {
		return h, err
	}
	_ = parseMeminfo(meminfo, func(key []byte, v uint64, kB bool) {
		if string(key) == "MemTotal" && kB {
			h.MemoryBytes = v * 1024
		}
	})
	if h.MemoryBytes == 0 {
		return h, malformed("meminfo", "no MemTotal")
	}
	h.CPUs = onlineCPUs(e, stat)
	return h, nil
}

// onlineCPUs counts the CPUs in /sys/devices/system/cpu/online ("0-3,6"),
// or else the cpuN lines of /proc/stat, or else what Go sees.
func onlineCPUs(e *env, stat []byte) int {
	if data, err := os.ReadFile(e.sysPath("devices", "system", "cpu", "online")); err == nil {
		if n, ok := countCPUList(bytes.TrimSpace(data)); ok && n > 0 {
			return n
		}
	}
	if times, err := parseCPUTimes(stat, nil); err == nil {
		return len(times)
	}
	return runtime.NumCPU()
}

// countCPUList counts the CPUs of a kernel CPU list such as "0-3,6,8-9".
func countCPUList(list []byte) (int, bool) {
	n := 0
	for len(list) > 0 {
		var part []byte
		part, list, _ = bytes.Cut(list, []byte(","))
		lo, hi, isRange := bytes.Cut(part, []byte("-"))
		a, ok := parseUint(lo)
		if !ok {
			return 0, false
		}
		b := a
		if isRange {
			if b, ok = parseUint(hi); !ok || b < a {
				return 0, false
			}
		}
		if b-a >= maxCPU {
			return 0, false
		}
		n += int(b-a) + 1
	}
	return n, true
}
