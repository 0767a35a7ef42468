//go:build !linux

package probe

// pingGroupHint is empty where there is no net.ipv4.ping_group_range.
func pingGroupHint() string { return "" }
