package parse

import "strings"

// Kernel event names returned by ParseKernel.
const (
	EventOOMKill     = "oom_kill"
	EventDiskIOError = "disk_io_error"
	EventFSError     = "fs_error"
	EventSegfault    = "segfault"
)

// Kernel is an event found in a kernel message.
type Kernel struct {
	// Event is one of EventOOMKill, EventDiskIOError, EventFSError,
	// EventSegfault.
	Event string
	// Process and PID name the process killed or crashed (and, for ext4
	// errors, the command that hit the error).
	Process, PID string
	// Device is the block device of an I/O or file system error.
	Device string
}

// ParseKernel finds an OOM kill, a disk I/O error, a file system error or
// a segfault in a kernel message (see the package documentation). It
// reports false for any other message.
func ParseKernel(message string) (Kernel, bool) {
	m := stripDmesgTime(message)
	if i := strings.Index(m, "Killed process "); i >= 0 {
		v := m[i+len("Killed process "):]
		n := 0
		for n < len(v) && isDigit(v[n]) {
			n++
		}
		if n == 0 || n+2 > len(v) || v[n] != ' ' || v[n+1] != '(' {
			return Kernel{}, false
		}
		name := v[n+2:]
		end := strings.IndexByte(name, ')')
		if end < 0 {
			return Kernel{}, false
		}
		return Kernel{Event: EventOOMKill, PID: v[:n], Process: name[:end]}, true
	}
	if i := strings.Index(m, " segfault at "); i > 0 {
		return crashed(strings.TrimSuffix(m[:i], ":"))
	}
	if v, ok := strings.CutPrefix(m, "traps: "); ok {
		if i := strings.Index(v, "] general protection"); i > 0 {
			return crashed(v[:i+1])
		}
		return Kernel{}, false
	}
	if i := strings.Index(m, " error, dev "); i >= 0 {
		if dev := device(m[i+len(" error, dev "):]); dev != "" {
			return Kernel{Event: EventDiskIOError, Device: dev}, true
		}
		return Kernel{}, false
	}
	if i := strings.Index(m, "Buffer I/O error on dev"); i >= 0 {
		v := strings.TrimPrefix(m[i+len("Buffer I/O error on dev"):], "ice")
		if dev := device(trimSpaces(v)); dev != "" {
			return Kernel{Event: EventDiskIOError, Device: dev}, true
		}
		return Kernel{}, false
	}
	switch {
	case len(m) > 8 && strings.HasPrefix(m, "EXT") && isDigit(m[3]) && strings.HasPrefix(m[4:], "-fs "):
		v := m[len("EXT4-fs "):]
		if d, ok := strings.CutPrefix(v, "error (device "); ok {
			k := Kernel{Event: EventFSError, Device: device(d)}
			if _, c, ok := strings.Cut(d, "comm "); ok {
				k.Process = strings.TrimSuffix(firstWord(c), ":")
			}
			return k, k.Device != ""
		}
		if d, ok := strings.CutPrefix(v, "("); ok {
			dev := device(d)
			if dev != "" && strings.Contains(d, "Remounting filesystem read-only") {
				return Kernel{Event: EventFSError, Device: dev}, true
			}
		}
	case strings.HasPrefix(m, "XFS ("):
		d := m[len("XFS ("):]
		dev := device(d)
		if dev == "" {
			return Kernel{}, false
		}
		if strings.Contains(d, "error") || strings.Contains(d, "orruption") ||
			strings.Contains(d, "shut down") || strings.Contains(d, "shutdown") {
			return Kernel{Event: EventFSError, Device: dev}, true
		}
	case strings.HasPrefix(m, "BTRFS error (device ") || strings.HasPrefix(m, "BTRFS critical (device "):
		_, d, _ := strings.Cut(m, "(device ")
		if dev := device(d); dev != "" {
			return Kernel{Event: EventFSError, Device: dev}, true
		}
	}
	return Kernel{}, false
}

// crashed reads "name[pid]" (the name may hold spaces) as a segfault.
func crashed(s string) (Kernel, bool) {
	if !strings.HasSuffix(s, "]") {
		return Kernel{}, false
	}
	open := strings.LastIndexByte(s, '[')
	if open <= 0 {
		return Kernel{}, false
	}
	pid := s[open+1 : len(s)-1]
	if pid == "" || digitsPrefix(pid) != len(pid) {
		return Kernel{}, false
	}
	name := s[:open]
	if sp := strings.LastIndex(name, ": "); sp >= 0 {
		name = name[sp+2:]
	}
	return Kernel{Event: EventSegfault, Process: name, PID: pid}, true
}

// device returns the device name at the start of s, which ends at a space,
// comma, colon or parenthesis.
func device(s string) string {
	i := 0
	for i < len(s) && i < 64 {
		c := s[i]
		if c == ' ' || c == ',' || c == ':' || c == ')' || c == '(' {
			break
		}
		i++
	}
	return s[:i]
}

// stripDmesgTime removes a leading "[ 1234.567890] ".
func stripDmesgTime(m string) string {
	if len(m) < 3 || m[0] != '[' {
		return m
	}
	end := strings.IndexByte(m, ']')
	if end < 0 || end > 20 {
		return m
	}
	for i := 1; i < end; i++ {
		if c := m[i]; !(isDigit(c) || c == '.' || c == ' ') {
			return m
		}
	}
	return trimSpaces(m[end+1:])
}
