package collector

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/prometheus/procfs"
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

// HostInfo returns the host's identity. It reads a few small files with
// procfs, without waiting for a collection in progress; os-release is
// cached.
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
	pfs, err := procfs.NewFS(e.opts.ProcPath)
	if err != nil {
		return h, err
	}
	stat, err := pfs.Stat()
	if err != nil {
		return h, err
	}
	if stat.BootTime == 0 {
		return h, malformed("stat", "no btime")
	}
	h.BootTime = time.Unix(int64(stat.BootTime), 0)
	mem, err := pfs.Meminfo()
	if err != nil {
		return h, err
	}
	if mem.MemTotalBytes == nil {
		return h, malformed("meminfo", "no MemTotal")
	}
	h.MemoryBytes = *mem.MemTotalBytes
	h.CPUs = len(stat.CPU)
	if data, err := os.ReadFile(e.sysPath("devices", "system", "cpu", "online")); err == nil {
		if n, ok := countCPUList(bytes.TrimSpace(data)); ok && n > 0 {
			h.CPUs = n
		}
	}
	if h.CPUs == 0 {
		h.CPUs = runtime.NumCPU()
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
