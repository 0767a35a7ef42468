// Package remotewrite ships the agent's samples to the server with
// Prometheus remote-write 1.0 (a snappy-compressed protobuf
// prometheus.WriteRequest per HTTP POST) through a durable queue on disk.
//
// Enqueue appends one collection to the queue and returns without touching
// the network; Run sends the queue in order, one request at a time, so the
// samples of every series arrive in time order. When the server is away the
// queue grows on disk up to Options.MaxQueueSize, and the backlog is sent in
// order when it returns. Delivery is at least once: a batch whose answer is
// lost (timeout, crash after sending) is sent again.
//
// # On-disk format
//
// The queue directory holds numbered segment files, 00000000000000000001.seg
// and so on, and a position file. A segment starts with the 8-byte magic
// "SPRWQ\x00\x00\x01" followed by records:
//
//	length  uint32 little endian, bytes of payload
//	samples uint32 little endian, samples and histogram samples in payload
//	crc     uint32 little endian, CRC-32C of length, samples and payload
//	payload snappy block of a protobuf prometheus.WriteRequest
//
// One record is one Enqueue call, written with a single write system call,
// so an acknowledged Enqueue survives the process being killed (the page
// cache holds it); segments are synced when they are sealed and on Close.
// The position file holds two 32-byte slots, written alternately, each
// with a sequence number, the segment number and offset of the next unsent
// record and a CRC-32C; the valid slot with the highest sequence wins, so a
// torn write falls back to the previous position and at worst resends.
//
// On open, every segment is checked record by record; a torn or corrupt
// record and everything after it in that segment is cut off (and logged),
// segments before the committed position are deleted, and sending resumes
// at the committed position.
//
// # Failures
//
// A full queue drops its oldest segments, sent or not; a failed write (disk
// full, directory removed) drops the collection being written. Both are
// counted in saypro_agent_queue_dropped_samples_total and logged, and
// Enqueue goes on working once the disk does. Network errors, timeouts, 5xx
// and 429 are retried with exponential backoff and full jitter (Retry-After
// is honoured); 400 and other non-retryable answers drop the batch and
// count its samples as rejected; 401 and 403 (a token problem) and 404, 405
// and 415 (a URL problem) keep the data and retry at the maximum backoff
// until the configuration is fixed.
//
// # Other payloads
//
// Queue is the same disk queue for opaque payloads (the agent's log
// batches), each record counting items instead of samples; its user
// delivers what Next returns and commits it.
package remotewrite
