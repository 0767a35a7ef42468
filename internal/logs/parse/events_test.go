package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAuth(t *testing.T) {
	for _, tc := range []struct {
		app, msg string
		want     Security
		ok       bool
	}{
		{"sshd", "Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2: ED25519 SHA256:3nq1pYV0p8mJ2cKbqJ0E",
			Security{Event: EventSSHAccepted, User: "deploy", SourceIP: "198.51.100.20", Port: "50122", Method: "publickey"}, true},
		{"sshd", "Accepted password for alice from 10.20.0.55 port 61234 ssh2",
			Security{Event: EventSSHAccepted, User: "alice", SourceIP: "10.20.0.55", Port: "61234", Method: "password"}, true},
		{"sshd-session", "Accepted keyboard-interactive/pam for bob from 2001:db8:4::17 port 52810 ssh2",
			Security{Event: EventSSHAccepted, User: "bob", SourceIP: "2001:db8:4::17", Port: "52810", Method: "keyboard-interactive/pam"}, true},
		{"sshd", "Failed password for root from 203.0.113.77 port 40390 ssh2",
			Security{Event: EventSSHFailed, User: "root", SourceIP: "203.0.113.77", Port: "40390", Method: "password"}, true},
		{"sshd", "Failed password for invalid user admin from 203.0.113.77 port 40222 ssh2",
			Security{Event: EventSSHFailed, User: "admin", SourceIP: "203.0.113.77", Port: "40222", Method: "password"}, true},
		{"sshd", "Failed none for invalid user  from 203.0.113.90 port 55012 ssh2",
			Security{Event: EventSSHFailed, SourceIP: "203.0.113.90", Port: "55012", Method: "none"}, true},
		{"sshd", "Failed publickey for git from 198.51.100.61 port 50331 ssh2: ECDSA SHA256:hJf3",
			Security{Event: EventSSHFailed, User: "git", SourceIP: "198.51.100.61", Port: "50331", Method: "publickey"}, true},
		{"sshd", "message repeated 2 times: [ Failed password for root from 203.0.113.77 port 41002 ssh2]",
			Security{Event: EventSSHFailed, User: "root", SourceIP: "203.0.113.77", Port: "41002", Method: "password"}, true},
		{"sshd", "Invalid user admin from 203.0.113.77 port 40222",
			Security{Event: EventSSHInvalidUser, User: "admin", SourceIP: "203.0.113.77", Port: "40222"}, true},
		{"sshd", "Invalid user oracle from 192.0.2.200",
			Security{Event: EventSSHInvalidUser, User: "oracle", SourceIP: "192.0.2.200"}, true},
		{"sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.77", Security{}, false},
		{"sshd", "Connection closed by invalid user admin 203.0.113.77 port 40222 [preauth]", Security{}, false},
		{"sshd", "error: maximum authentication attempts exceeded for root from 203.0.113.77 port 40390 ssh2 [preauth]", Security{}, false},
		{"sshd", "Failed password for root", Security{}, false},
		{"sshd", "message repeated 2 times: Failed", Security{}, false},
		{"sudo", "  deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart php8.2-fpm.service",
			Security{Event: EventSudo, User: "deploy", TargetUser: "root", Command: "/usr/bin/systemctl restart php8.2-fpm.service"}, true},
		{"sudo", "ansible : TTY=pts/0 ; PWD=/home/ansible ; USER=root ; COMMAND=/bin/sh -c 'echo BECOME-SUCCESS-xqkz ; /usr/bin/python3'",
			Security{Event: EventSudo, User: "ansible", TargetUser: "root", Command: "/bin/sh -c 'echo BECOME-SUCCESS-xqkz ; /usr/bin/python3'"}, true},
		{"sudo", "alice : TTY=pts/3 ; PWD=/srv ; USER=postgres ; ENV=PGDATA=/srv/pg ; COMMAND=/usr/bin/psql",
			Security{Event: EventSudo, User: "alice", TargetUser: "postgres", Command: "/usr/bin/psql"}, true},
		{"sudo", "  intern : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/intern ; USER=root ; COMMAND=/bin/bash",
			Security{Event: EventSudoFailed, User: "intern", TargetUser: "root", Command: "/bin/bash"}, true},
		{"sudo", "   jdoe : 1 incorrect password attempt ; TTY=pts/2 ; PWD=/home/jdoe ; USER=root ; COMMAND=/bin/systemctl stop firewalld",
			Security{Event: EventSudoFailed, User: "jdoe", TargetUser: "root", Command: "/bin/systemctl stop firewalld"}, true},
		{"sudo", "pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1001)", Security{}, false},
		{"sudo", "deploy : something odd", Security{}, false},
		{"useradd", "new user: name=reports, UID=1003, GID=1003, home=/home/reports, shell=/bin/bash, from=/dev/pts/0",
			Security{Event: EventUserAdded, User: "reports"}, true},
		{"useradd", "new group: name=reports, GID=1003", Security{Event: EventGroupAdded, Group: "reports"}, true},
		{"useradd", "add 'reports' to group 'www-data'", Security{}, false},
		{"groupadd", "new group: name=backup-ops, GID=1004", Security{Event: EventGroupAdded, Group: "backup-ops"}, true},
		{"groupadd", "group added to /etc/group: name=backup-ops, GID=1004", Security{}, false},
		{"groupadd", "new user: name=x, UID=1", Security{}, false},
		{"userdel", "delete user 'intern'", Security{Event: EventUserDeleted, User: "intern"}, true},
		{"userdel", "removed group 'intern' owned by 'intern'", Security{}, false},
		{"passwd", "pam_unix(passwd:chauthtok): password changed for reports", Security{Event: EventPasswordChanged, User: "reports"}, true},
		{"chpasswd", "pam_unix(chpasswd:chauthtok): password changed for intern", Security{Event: EventPasswordChanged, User: "intern"}, true},
		{"passwd", "gkr-pam: couldn't update the login keyring password: no old password was entered", Security{}, false},
		{"cron", "Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2", Security{}, false},
	} {
		got, ok := ParseAuth(tc.app, tc.msg)
		require.Equal(t, tc.ok, ok, "%s: %s", tc.app, tc.msg)
		require.Equal(t, tc.want, got, "%s: %s", tc.app, tc.msg)
	}
}

func TestParseAuthFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]int
	}{
		{"debian12-auth.log", map[string]int{
			EventSSHAccepted: 3, EventSSHFailed: 5, EventSSHInvalidUser: 1, EventSudo: 2, EventSudoFailed: 2,
			EventUserAdded: 1, EventGroupAdded: 2, EventPasswordChanged: 2, EventUserDeleted: 1,
		}},
		{"rhel9-secure", map[string]int{
			EventSSHAccepted: 1, EventSSHFailed: 2, EventSSHInvalidUser: 1, EventSudo: 1, EventSudoFailed: 1,
			EventUserAdded: 1, EventGroupAdded: 1, EventPasswordChanged: 1, EventUserDeleted: 1,
		}},
	} {
		got := map[string]int{}
		for _, line := range fixtureLines(t, tc.file) {
			s, ok := ParseSyslogLine(line, testNow, nil)
			require.True(t, ok, line)
			if ev, ok := ParseAuth(s.App, s.Message); ok {
				got[ev.Event]++
			}
		}
		require.Equal(t, tc.want, got, tc.file)
	}
}

func TestParseKernel(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want Kernel
		ok   bool
	}{
		{"[ 9031.554837] Out of memory: Killed process 2198 (mariadbd) total-vm:6264432kB, anon-rss:3721104kB, file-rss:0kB, shmem-rss:0kB, UID:106 pgtables:8812kB oom_score_adj:0",
			Kernel{Event: EventOOMKill, Process: "mariadbd", PID: "2198"}, true},
		{"Memory cgroup out of memory: Killed process 30411 (node) total-vm:1844020kB, anon-rss:520112kB",
			Kernel{Event: EventOOMKill, Process: "node", PID: "30411"}, true},
		{"Killed process 1234 (php-fpm: pool www) total-vm:512000kB", Kernel{Event: EventOOMKill, Process: "php-fpm: pool www", PID: "1234"}, true},
		{"Killed process x (y)", Kernel{}, false},
		{"[ 9031.554219] mysqld invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0", Kernel{}, false},
		{"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task=mariadbd,pid=2198,uid=106", Kernel{}, false},
		{"[10927.226331] I/O error, dev sdb, sector 1953512 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2",
			Kernel{Event: EventDiskIOError, Device: "sdb"}, true},
		{"blk_update_request: I/O error, dev nvme0n1, sector 12345 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0",
			Kernel{Event: EventDiskIOError, Device: "nvme0n1"}, true},
		{"critical medium error, dev sdb, sector 1953520 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2",
			Kernel{Event: EventDiskIOError, Device: "sdb"}, true},
		{"Buffer I/O error on dev sdb1, logical block 244183, async page read", Kernel{Event: EventDiskIOError, Device: "sdb1"}, true},
		{"Buffer I/O error on device dm-3, logical block 0", Kernel{Event: EventDiskIOError, Device: "dm-3"}, true},
		{"EXT4-fs error (device sdb1): ext4_find_entry:1683: inode #131073: comm rsync: reading directory lblock 0",
			Kernel{Event: EventFSError, Device: "sdb1", Process: "rsync"}, true},
		{"EXT4-fs error (device dm-0) in ext4_reserve_inode_write:5741: Journal has aborted", Kernel{Event: EventFSError, Device: "dm-0"}, true},
		{"EXT4-fs (sdb1): Remounting filesystem read-only", Kernel{Event: EventFSError, Device: "sdb1"}, true},
		{"EXT4-fs (sdb1): error count since last fsck: 3", Kernel{}, false},
		{"EXT4-fs (sda1): mounted filesystem 2b5c-11 r/w with ordered data mode. Quota mode: none.", Kernel{}, false},
		{`XFS (dm-2): metadata I/O error in "xfs_da_read_buf+0x103/0x120 [xfs]" at daddr 0x1b0 len 8 error 5`, Kernel{Event: EventFSError, Device: "dm-2"}, true},
		{"XFS (dm-2): Metadata corruption detected at xfs_dinode_verify+0x2b0/0x6a0 [xfs], inode 0x20a3f dinode", Kernel{Event: EventFSError, Device: "dm-2"}, true},
		{"XFS (dm-2): Filesystem has been shut down due to log error (0x2).", Kernel{Event: EventFSError, Device: "dm-2"}, true},
		{"XFS (sda1): Mounting V5 Filesystem 3c8f7e1a", Kernel{}, false},
		{"BTRFS error (device sdc1): bdev /dev/sdc1 errs: wr 0, rd 3, flush 0, corrupt 0, gen 0", Kernel{Event: EventFSError, Device: "sdc1"}, true},
		{"BTRFS critical (device sdc1: state EA): unable to find logical 0 length 4096", Kernel{Event: EventFSError, Device: "sdc1"}, true},
		{"BTRFS info (device sdc1): scrub: started on devid 1", Kernel{}, false},
		{"[1204431.882017] nginx[30122]: segfault at 10 ip 000055c1f3a2b4e1 sp 00007ffd5c0e3a80 error 4 in nginx[55c1f3a00000+e6000] likely on CPU 2 (core 2, socket 0)",
			Kernel{Event: EventSegfault, Process: "nginx", PID: "30122"}, true},
		{"Web Content[5120]: segfault at 0 ip 00007f19e4b3a1d0 sp 00007ffc1a2b3c40 error 6 in libxul.so[7f19e2400000+5c10000]",
			Kernel{Event: EventSegfault, Process: "Web Content", PID: "5120"}, true},
		{"traps: php-fpm8.2[41133] general protection fault ip:7f3c2a1b9e2d sp:7ffd94e1c2a8 error:0 in libc.so.6[7f3c2a13f000+155000]",
			Kernel{Event: EventSegfault, Process: "php-fpm8.2", PID: "41133"}, true},
		{"traps: x[1] trap invalid opcode ip:1", Kernel{}, false},
		{"foo segfault at 0", Kernel{}, false},
		{"e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None", Kernel{}, false},
		{"", Kernel{}, false},
	} {
		got, ok := ParseKernel(tc.msg)
		require.Equal(t, tc.ok, ok, tc.msg)
		require.Equal(t, tc.want, got, tc.msg)
	}
}

func TestParseKernelFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]int
	}{
		{"debian12-kern.log", map[string]int{EventOOMKill: 2, EventDiskIOError: 3, EventFSError: 3, EventSegfault: 2}},
		{"rhel9-messages", map[string]int{EventOOMKill: 1, EventFSError: 3}},
		{"debian12-syslog.log", map[string]int{EventSegfault: 1}},
	} {
		got := map[string]int{}
		for _, line := range fixtureLines(t, tc.file) {
			s, ok := ParseSyslogLine(line, testNow, nil)
			require.True(t, ok, line)
			if s.App != "kernel" {
				continue
			}
			if ev, ok := ParseKernel(s.Message); ok {
				got[ev.Event]++
			}
		}
		require.Equal(t, tc.want, got, tc.file)
	}
}
