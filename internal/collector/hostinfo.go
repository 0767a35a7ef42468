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

// HostInfo returns the host's identity. The agent asks for it on every
// heartbeat, as often as it collects, so it reads /proc/stat and
// /proc/meminfo with the collectors' parsers, into its own buffer: it does
// not wait for a collection in progress. os-release is cached.
func (n *Node) HostInfo() (HostInfo, error) {
	e := n.env
	var h HostInfo
	var u unix.Utsname
	if err := e.uname(&u); err != nil {
		return h, fmt.Errorf("uname: %w", err)
	}
	f := utsnameFields(&u)
	h.Kernel, h.Arch, h.Hostname = f[1], f[3], f[4]
	if rel, err := e.osRelease.get(e); err == nil {
		h.OS, h.OSID, h.OSVersion = rel.fields["PRETTY_NAME"], rel.fields["ID"], rel.fields["VERSION_ID"]
		if h.OS == "" {
			h.OS = rel.fields["NAME"]
		}
	}
	var r reader
	data, err := r.read(e.procPath("stat"))
	if err != nil {
		return h, err
	}
	stat, err := parseKernelStats(data)
	if err != nil {
		return h, err
	}
	if stat.bootTime == 0 {
		return h, malformed("stat", "no btime")
	}
	h.BootTime = time.Unix(int64(stat.bootTime), 0)
	if online, err := os.ReadFile(e.sysPath("devices", "system", "cpu", "online")); err == nil {
		if n, ok := countCPUList(bytes.TrimSpace(online)); ok {
			h.CPUs = n
		}
	}
	if h.CPUs == 0 { // the cpuN lines of /proc/stat
		times, _ := parseCPUTimes(data, nil)
		h.CPUs = len(times)
	}
	if h.CPUs == 0 {
		h.CPUs = runtime.NumCPU()
	}
	data, err = r.read(e.procPath("meminfo"))
	if err != nil {
		return h, err
	}
	memTotal := false
	err = parseMeminfo(data, func(key []byte, v uint64, kB bool) {
		if string(key) == "MemTotal" {
			memTotal = true
			h.MemoryBytes = v
			if kB {
				h.MemoryBytes *= 1024
			}
		}
	})
	if err != nil {
		return h, err
	}
	if !memTotal {
		return h, malformed("meminfo", "no MemTotal")
	}
	return h, nil
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
