// Package parse turns raw log lines into structured values: syslog messages
// received over the network, lines of syslog files, HTTP access log lines,
// and security and kernel events found in their messages.
//
// Every function here is pure (no I/O except FrameReader's reader, no
// package-level state) and safe for concurrent use. Parsers scan strings and
// bytes directly (no regular expressions); the string fields of a result are
// substrings of the input (ParseSyslog copies its []byte input once), so a
// result keeps its input alive. Times carrying an explicit UTC offset are
// returned in UTC; times without one are interpreted in the given location
// (UTC when it is nil).
//
// # Syslog network messages (ParseSyslog)
//
// An optional "<PRI>" (one to three digits, 0..191) comes first; without it
// Facility and Severity are -1 and the message is read as RFC 3164. Trailing
// CR, LF and NUL bytes are ignored. After the PRI:
//
//   - RFC 5424, recognised by the version "1 " followed by "-" or a digit:
//     TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. The
//     timestamp is "-" or RFC 3339 ("T" or "t", up to nine fraction digits,
//     "Z" or "±hh:mm"). Header fields are printable US-ASCII; "-" means
//     empty; field length limits are not enforced. Structured data is "-" or
//     one or more "[id name="value" ...]" elements, stored as "id.name" keys
//     (an element without parameters as key "id" with an empty value); the
//     escapes \" \\ \] are undone. If the structured data is neither "-" nor
//     starts with "[", it is taken as the start of MSG. A UTF-8 BOM at the
//     start of MSG is removed. A malformed header or structured data is an
//     error.
//   - RFC 3164, leniently: an optional Cisco sequence number ("123: ", or
//     ": " as NX-OS writes), then an optional timestamp, an optional host,
//     an optional tag, and the message. See "Timestamps" for the accepted
//     timestamps. When there is a timestamp, the next word is the host
//     unless it looks like a tag ("app:", "app[pid]:", "app[pid]") or holds
//     characters a host name cannot have (pfSense and some devices send no
//     host); ASA's "host : " is accepted. Without a timestamp there is no
//     host. A tag is 1..128 characters of letters, digits and "._-/@()"
//     (starting with a letter, digit, "_" or "("), optionally followed by
//     "[pid]", then ":" or (after "[pid]") nothing, then a space or the end;
//     it sets App and ProcID. A message starting with a Cisco mnemonic
//     ("%LINK-3-UPDOWN:", "%ASA-6-302013:") keeps it, and MsgID is set to
//     the mnemonic without "%". A FortiGate message ("date=... time=...
//     devname=...", no syslog header) gets its time from date=, time= and
//     tz= and its host from devname=.
//
// Only an empty message, a malformed PRI or a malformed RFC 5424 header or
// structured data is an error; the returned Syslog then still holds the PRI
// (when valid) and the unparsed rest in Message.
//
// # Syslog file lines (ParseSyslogLine)
//
// A line as rsyslog or syslog-ng write it, without PRI: a timestamp, a host,
// an optional tag and the message, for example (Debian 12 default, RHEL 9
// default):
//
//	2026-11-22T02:38:10.123456+00:00 web1 sshd[42]: Accepted publickey for deploy ...
//	Nov 22 02:38:10 web1 sshd[42]: Accepted publickey for deploy ...
//
// The host and tag rules are those of RFC 3164 above. A line without a valid
// timestamp or with nothing after it is rejected.
//
// # Timestamps
//
// RFC 3164 and file lines accept:
//
//   - "Mmm dd hh:mm:ss" (day space- or zero-padded or one digit), with an
//     optional fraction ".sss" (1..9 digits) and an optional year after the
//     day ("Nov 22 2026 02:38:10", Cisco and ASA);
//   - "yyyy Mmm dd hh:mm:ss[.frac]" (NX-OS);
//   - RFC 3339 / ISO 8601 "yyyy-mm-ddThh:mm:ss[.frac][Z|±hh:mm|±hhmm]"
//     (rsyslog's high-precision format); without a zone, the location applies.
//
// A leading "*" or "." (Cisco clock status) is skipped; a following zone
// abbreviation before a colon (" UTC:") is read (UTC and GMT as UTC, others
// in the given location), and a colon right after the timestamp is skipped.
// Without a year, the year is the one that puts the time closest to now
// (so "Dec 31 23:59:59" read on January 1st is last year's).
//
// # Frames (FrameReader)
//
// RFC 6587 syslog over a stream, detected frame by frame: a frame starting
// with a non-zero digit followed by up to nine more digits and a space is
// octet-counted; any other frame ends at LF or NUL (a CR before the LF is
// removed). Empty frames are skipped. Frames longer than the limit are
// returned cut to the limit with Truncated reporting it, and the rest of the
// frame is discarded without being buffered.
//
// # Access logs (ParseAccess)
//
// nginx and Apache lines in the common and combined formats:
//
//	[vhost[:port] ]client ident user [dd/Mon/yyyy:hh:mm:ss ±hhmm] "request" status bytes ["referer" "user-agent"] [extra...]
//
// This covers nginx "combined" and RHEL's "main" (an extra quoted
// X-Forwarded-For), Apache "common", "combined" and "vhost_combined" ("%v:%p"
// first). The vhost is kept as written. "-" user, referer and user agent are
// returned empty; bytes "-" is 0; status must be three digits (100..999).
// The request is split into method (upper-case letters), path and protocol
// (starting with "HTTP/"); an unsplittable request ("-", TLS garbage) leaves
// them empty. An unparsable time leaves HasTime false. After the user agent
// (or the bytes), extra words are scanned for a response time, the first
// one found wins: "rt=S", "request_time=S" or a bare "S" (seconds with a
// decimal point, nginx's $request_time), or "us=N" or "D=N" (integer
// microseconds, Apache's %D). Quoted words and other words are ignored.
//
// # Security events (ParseAuth)
//
// From the program name (App) and message as written to auth.log / secure:
//
//   - sshd, sshd-session: "Failed <method> for [invalid user ]<user> from
//     <ip> port <port> ..." (ssh_failed), "Accepted <method> for <user> from
//     <ip> port <port> ..." (ssh_accepted), "Invalid user <user> from <ip>
//     [port <port>]" (ssh_invalid_user); rsyslog's "message repeated N
//     times: [ ... ]" is unwrapped.
//   - sudo: "<user> : TTY=... ; PWD=... ; USER=<target> ; COMMAND=<cmd>"
//     (sudo) and the same with a failure reason first, such as "3 incorrect
//     password attempts" or "user NOT in sudoers" (sudo_failed).
//   - useradd: "new user: name=<user>, ..." (user_added) and "new group:
//     name=<group>, ..." (group_added); groupadd: "new group: name=<group>,
//     ..." (group_added); userdel: "delete user '<user>'" (user_deleted);
//     passwd, chpasswd: "... password changed for <user>" (password_changed).
//
// # Kernel events (ParseKernel)
//
// From a kernel message, with or without a "[ seconds.micros] " prefix:
// "Killed process <pid> (<name>)" including "Out of memory:" and "Memory
// cgroup out of memory:" forms (oom_kill); "<kind> error, dev <dev>, sector
// ..." and "Buffer I/O error on dev <dev>, ..." (disk_io_error);
// "EXTn-fs error (device <dev>)", "EXTn-fs (<dev>): Remounting filesystem
// read-only", "XFS (<dev>): ..." reporting an error, corruption or shutdown,
// and "BTRFS error|critical (device <dev>...)" (fs_error); "<name>[<pid>]:
// segfault at ..." and "traps: <name>[<pid>] general protection fault ..."
// (segfault).
package parse
