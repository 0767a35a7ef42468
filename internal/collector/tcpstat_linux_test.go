package collector

import (
	"encoding/binary"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// netlinkMessage builds one netlink message of a sock_diag dump.
func netlinkMessage(typ uint16, seq uint32, payload []byte) []byte {
	l := nlmsgHeaderLen + len(payload)
	b := make([]byte, (l+3)&^3)
	ne := binary.NativeEndian
	ne.PutUint32(b, uint32(l))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	copy(b[nlmsgHeaderLen:], payload)
	return b
}

// diagMsg builds an inet_diag_msg.
func diagMsg(state uint8, rqueue, wqueue uint32) []byte {
	b := make([]byte, inetDiagMsgLen)
	b[0], b[1] = unix.AF_INET, state
	binary.NativeEndian.PutUint32(b[56:], rqueue)
	binary.NativeEndian.PutUint32(b[60:], wqueue)
	return b
}

func TestTCPCounts_Netlink(t *testing.T) {
	var c tcpCounts
	var dgram []byte
	dgram = append(dgram, netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(1, 3, 40))...)
	dgram = append(dgram, netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(10, 5, 4096))...)
	dgram = append(dgram, netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 9, diagMsg(1, 100, 100))...) // stale dump
	dgram = append(dgram, netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(99, 1, 1))...)    // unknown state
	done, err := c.addNetlink(dgram, 1)
	require.NoError(t, err)
	require.False(t, done)
	done, err = c.addNetlink(netlinkMessage(unix.NLMSG_DONE, 1, make([]byte, 4)), 1)
	require.NoError(t, err)
	require.True(t, done)
	require.EqualValues(t, 1, c.states[1])
	require.EqualValues(t, 1, c.states[tcpListen])
	require.EqualValues(t, 3, c.rxQueued)
	require.EqualValues(t, 40, c.txQueued)

	errMsg := make([]byte, 4)
	errno := -int32(unix.EPERM)
	binary.NativeEndian.PutUint32(errMsg, uint32(errno))
	_, err = c.addNetlink(netlinkMessage(unix.NLMSG_ERROR, 1, errMsg), 1)
	require.ErrorIs(t, err, unix.EPERM)
	_, err = c.addNetlink(netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 1, make([]byte, 10)), 1)
	require.ErrorContains(t, err, "short message")
	bad := netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(1, 0, 0))
	binary.NativeEndian.PutUint32(bad, 9999)
	_, err = c.addNetlink(bad, 1)
	require.ErrorContains(t, err, "malformed")
}

// TestTCPStat_NetlinkMatchesProc counts this host's sockets both ways: the
// listening sockets, which do not come and go, must agree.
func TestTCPStat_NetlinkMatchesProc(t *testing.T) {
	n, err := New(Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var c *tcpstatCollector
	for _, e := range n.collectors {
		if tc, ok := e.c.(*tcpstatCollector); ok {
			c = tc
		}
	}
	require.True(t, c.useNetlink)
	buf := make([]byte, 64<<10)
	var compat, perFamily, viaProc tcpCounts
	useCompat := true
	if err := countTCPNetlink(&compat, buf, &useCompat); err != nil {
		t.Skipf("netlink sock_diag refused here: %v", err)
	}
	require.True(t, useCompat, "one dump for both families works on this kernel")
	useCompat = false
	require.NoError(t, countTCPNetlink(&perFamily, buf, &useCompat))
	c.buf = buf
	for _, path := range c.paths {
		require.NoError(t, c.count(path, &viaProc))
	}
	require.Equal(t, viaProc.states[tcpListen], compat.states[tcpListen], "listening sockets")
	require.Equal(t, viaProc.states[tcpListen], perFamily.states[tcpListen], "listening sockets")
	require.NotZero(t, compat.states[tcpListen]+compat.states[1]+compat.states[6], "some sockets")
}

// FuzzNetlink feeds arbitrary datagrams to the sock_diag parser.
func FuzzNetlink(f *testing.F) {
	f.Add(append(netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(1, 3, 40)), netlinkMessage(unix.NLMSG_DONE, 1, nil)...))
	f.Add(netlinkMessage(unix.NLMSG_ERROR, 1, []byte{0xff, 0xff, 0xff, 0xff}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c tcpCounts
		_, _ = c.addNetlink(data, 1)
	})
}
