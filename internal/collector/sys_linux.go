package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readClock reads the kernel clock's state with adjtimex(2) in read-only
// mode (modes 0).
func readClock() (clockState, error) {
	var t unix.Timex
	state, err := unix.Adjtimex(&t)
	if err != nil {
		return clockState{}, err
	}
	return clockState{
		synced:    state != unix.TIME_ERROR,
		nano:      t.Status&unix.STA_NANO != 0,
		offset:    int64(t.Offset),
		freq:      int64(t.Freq),
		maxError:  int64(t.Maxerror),
		estError:  int64(t.Esterror),
		status:    int64(t.Status),
		constant:  int64(t.Constant),
		tick:      int64(t.Tick),
		ppsFreq:   int64(t.Ppsfreq),
		jitter:    int64(t.Jitter),
		shift:     int64(t.Shift),
		stability: int64(t.Stabil),
		jitterCnt: int64(t.Jitcnt),
		calibCnt:  int64(t.Calcnt),
		errorCnt:  int64(t.Errcnt),
		stbCnt:    int64(t.Stbcnt),
		tai:       int64(t.Tai),
	}, nil
}

// domainname returns uname's NIS domain name.
func domainname(u *unix.Utsname) string { return unix.ByteSliceToString(u.Domainname[:]) }

// Sizes of the sock_diag structures (linux/inet_diag.h).
const (
	nlmsgHeaderLen   = 16 // struct nlmsghdr
	inetDiagReqLen   = 60 // struct inet_diag_req
	inetDiagReqV2Len = 56 // struct inet_diag_req_v2
	inetDiagMsgLen   = 72 // struct inet_diag_msg
)

// tcpdiagGetsock is the request type of the original inet_diag interface
// (TCPDIAG_GETSOCK).
const tcpdiagGetsock = 18

// netlinkTCPSupported reports whether countTCPNetlink can work here.
const netlinkTCPSupported = true

// countTCPNetlink counts the TCP sockets of this network namespace, IPv4
// and IPv6, by state, over netlink sock_diag, as node_exporter does: the
// kernel answers at a fraction of the cost of generating /proc/net/tcp and
// tcp6, and sends 72 bytes of binary per socket instead of 150 of text.
//
// While *compat holds, both families are asked for at once with the
// original inet_diag request, which the kernel answers with one walk of its
// socket tables; sock_diag's per-family requests, the fallback, walk them
// once per family. buf receives the dumps.
func countTCPNetlink(t *tcpCounts, buf []byte, compat *bool) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ne := binary.NativeEndian
	if *compat {
		var req [nlmsgHeaderLen + inetDiagReqLen]byte
		ne.PutUint32(req[nlmsgHeaderLen+52:], 0xffffffff) // every state, any family
		err := dumpTCP(fd, tcpdiagGetsock, 1, req[:], t, buf)
		if err == nil {
			return nil
		}
		*compat = false
		*t = tcpCounts{}
	}
	for i, family := range [...]uint8{unix.AF_INET, unix.AF_INET6} {
		var req [nlmsgHeaderLen + inetDiagReqV2Len]byte
		req[nlmsgHeaderLen] = family
		req[nlmsgHeaderLen+1] = unix.IPPROTO_TCP
		ne.PutUint32(req[nlmsgHeaderLen+4:], 0xffffffff) // every state
		if err := dumpTCP(fd, unix.SOCK_DIAG_BY_FAMILY, uint32(i+2), req[:], t, buf); err != nil {
			return err
		}
	}
	return nil
}

// dumpTCP sends a dump request (req, whose header dumpTCP fills in) and
// counts the sockets of the answer.
func dumpTCP(fd int, typ uint16, seq uint32, req []byte, t *tcpCounts, buf []byte) error {
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], typ)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	// An unconnected netlink socket sends to the kernel; write and read
	// avoid the allocations of sendto's and recvfrom's addresses.
	if _, err := unix.Write(fd, req); err != nil {
		return os.NewSyscallError("write", err)
	}
	for {
		n, err := readFD(fd, buf)
		if err != nil {
			return os.NewSyscallError("read", err)
		}
		done, err := t.addNetlink(buf[:n], seq)
		if done || err != nil {
			return err
		}
	}
}

// addNetlink counts the sockets of one netlink datagram of a sock_diag
// dump with sequence number seq, and reports whether the dump is done.
func (t *tcpCounts) addNetlink(b []byte, seq uint32) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHeaderLen {
		l := ne.Uint32(b)
		if l < nlmsgHeaderLen || int(l) > len(b) {
			return true, fmt.Errorf("sock_diag: malformed message of %d bytes", l)
		}
		typ, msgSeq, payload := ne.Uint16(b[4:]), ne.Uint32(b[8:]), b[nlmsgHeaderLen:l]
		if next := (int(l) + 3) &^ 3; next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
		if msgSeq != seq { // left over from an earlier dump
			continue
		}
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) >= 4 {
				if errno := int32(ne.Uint32(payload)); errno < 0 {
					return true, os.NewSyscallError("sock_diag", unix.Errno(-errno))
				}
			}
			return true, fmt.Errorf("sock_diag: error message")
		case unix.SOCK_DIAG_BY_FAMILY, tcpdiagGetsock:
			if len(payload) < inetDiagMsgLen {
				return true, fmt.Errorf("sock_diag: short message of %d bytes", len(payload))
			}
			t.count(uint64(payload[1]), uint64(ne.Uint32(payload[60:])), uint64(ne.Uint32(payload[56:])))
		}
	}
	return false, nil
}

// listDir appends to names the names of the entries of dir that may be
// directories (not regular files, ".", ".."), each followed by a NUL byte,
// reading the directory with getdents64 into *buf, which it reuses.
func listDir(dir string, buf *[]byte, names []byte) ([]byte, error) {
	fd, err := openFile(dir)
	if err != nil {
		return names, err
	}
	defer unix.Close(fd)
	if *buf == nil {
		*buf = make([]byte, 8<<10)
	}
	for {
		n, err := unix.Getdents(fd, *buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
		for b := (*buf)[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return names, &os.PathError{Op: "getdents", Path: dir, Err: unix.EINVAL}
			}
			typ, name := b[18], b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if typ == unix.DT_REG || len(name) == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			names = append(append(names, name...), 0)
		}
	}
}
