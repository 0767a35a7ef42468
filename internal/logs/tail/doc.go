// Package tail is the agent's log collection: it follows log files found by
// glob patterns and the systemd journal, and hands their lines in batches
// to a LogSink. The standalone agent's sink writes them to a durable disk
// queue that is posted to the server; the server's in-process agent hands
// them to its log pipeline directly. Lines are shipped raw: the server
// parses them by the format each source declares.
//
// # Files
//
// The patterns are matched again every ScanInterval (10 s), so files that
// appear later (a new application's log, a web server installed after the
// agent) are picked up; fsnotify is not used. A file is known by its device
// and inode, not its name, so:
//
//   - Rotation by rename (logrotate's default, rsyslog's): when the path
//     names another file, the old one is read to its end (it stays open,
//     so lines written to it just before the writer reopened are not lost)
//     and closed, and the new file is read from its beginning.
//   - Rotation by truncation (copytruncate): when a file becomes shorter
//     than what was read, it is read again from its beginning. Lines
//     written between the last read and the copy are in the copy only,
//     which is not followed: this is the known weakness of copytruncate.
//   - A file rotated while the agent was stopped is found by its inode in
//     the same directory (syslog.1, say) and read to its end first.
//
// Compressed files (.gz, .bz2, .xz, .zst, .zip) are never followed. A line
// longer than the maximum line size is cut there and " …[truncated N
// bytes]" appended; the rest of it is skipped without being kept in
// memory. Bytes that are not valid UTF-8 are replaced with U+FFFD.
//
// # Offsets
//
// What was read of each file (and the journal's cursor) is saved in
// offsets.json in the state directory, written to a temporary file,
// synced and renamed, so a crash leaves either the old or the new file.
// Offsets only move after the sink accepted the batch holding the lines,
// so a restart resumes where the sink's data ends: no line is lost, and a
// line may be delivered twice only when the agent stops between the sink
// accepting a batch and the offsets being saved (at least once).
//
// # Journal
//
// The systemd journal is read by running journalctl --output=json
// --follow (no cgo). Its cursor is saved like the offsets and passed back
// with --after-cursor. MESSAGE (a string or, for binary data, an array of
// bytes), PRIORITY (as a severity keyword), SYSLOG_IDENTIFIER or
// _SYSTEMD_UNIT (as the service), __REALTIME_TIMESTAMP and _PID are kept.
//
// # Batches
//
// A batch is sent when it holds 5000 entries or 1 MiB of messages, or one
// second after its first entry. While the sink fails, reading pauses (the
// lines stay in the files) and the batch is retried with backoff, up to
// 30 s apart; a sink error that wraps ErrRejected drops the batch instead.
package tail
