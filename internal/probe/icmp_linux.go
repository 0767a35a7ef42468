package probe

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// pingGroupHint explains why an unprivileged ICMP socket is refused: the
// process's group is outside net.ipv4.ping_group_range.
func pingGroupHint() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return ""
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 32)
	hi, err2 := strconv.ParseUint(f[1], 10, 32)
	gid := uint64(os.Getegid())
	if err1 != nil || err2 != nil || (lo <= gid && gid <= hi) {
		return ""
	}
	return fmt.Sprintf(" (group %d is outside net.ipv4.ping_group_range %q: run sysctl net.ipv4.ping_group_range=\"0 2147483647\" to allow unprivileged ping, or give the binary CAP_NET_RAW)",
		gid, strings.Join(f, " "))
}
