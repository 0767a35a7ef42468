// Package metrics embeds the Prometheus TSDB: it opens the database under
// <data-dir>/metrics with its write-ahead log on, applies retention by time
// and by size, and exposes it to the rest of the server only through the
// storage interfaces of the Prometheus packages.
//
// Every sample that an appender's Commit has returned for is in the
// write-ahead log, in the operating system's file cache: a killed process
// loses nothing it acknowledged, and the log is replayed at the next Open.
package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// Options configure Open. Logger and Registerer are required.
type Options struct {
	// Dir is the TSDB directory, usually <data-dir>/metrics.
	Dir string
	// Retention is how long samples are kept.
	Retention time.Duration
	// RetentionSize caps the bytes of blocks and WAL on disk (0: no cap).
	RetentionSize int64
	// OutOfOrderTimeWindow accepts older samples than the newest of their
	// series up to this age.
	OutOfOrderTimeWindow time.Duration
	Logger               *slog.Logger
	Registerer           prometheus.Registerer
}

// Store is the embedded metrics database. It implements storage.Storage
// and the administrative interface of the query API.
type Store struct {
	*tsdb.DB
	stats *tsdb.DBStats
}

// maxExemplars is the size of the in-memory exemplar ring.
const maxExemplars = 100_000

// maxBlockDuration follows Prometheus: blocks are compacted up to a tenth
// of the retention, at most 31 days, so that retention frees space in
// steps of about 10 %.
func maxBlockDuration(retention time.Duration) time.Duration {
	d := min(retention/10, 31*24*time.Hour)
	return max(d, 2*time.Hour)
}

// Open opens (creating if needed) the database in o.Dir and replays its
// write-ahead log.
func Open(o Options) (*Store, error) {
	if o.Logger == nil || o.Registerer == nil {
		return nil, errors.New("metrics: Logger and Registerer are required")
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating metrics directory: %w", err)
	}
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = o.Retention.Milliseconds()
	opts.MaxBytes = o.RetentionSize
	opts.MaxBlockDuration = maxBlockDuration(o.Retention).Milliseconds()
	opts.WALCompression = compression.Snappy
	opts.OutOfOrderTimeWindow = o.OutOfOrderTimeWindow.Milliseconds()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = maxExemplars
	stats := tsdb.NewDBStats()
	db, err := tsdb.Open(o.Dir, o.Logger, o.Registerer, opts, stats)
	if err != nil {
		return nil, fmt.Errorf("opening metrics store in %s: %w", o.Dir, err)
	}
	return &Store{DB: db, stats: stats}, nil
}

// ApplyConfig changes retention and the out-of-order window at run time.
func (s *Store) ApplyConfig(retention time.Duration, retentionSize int64, oooWindow time.Duration) error {
	c := promconfig.DefaultConfig
	// The TSDB resizes its exemplar storage to this on every ApplyConfig.
	c.StorageConfig.ExemplarsConfig = &promconfig.ExemplarsConfig{MaxExemplars: maxExemplars}
	c.StorageConfig.TSDBConfig = &promconfig.TSDBConfig{
		OutOfOrderTimeWindow: oooWindow.Milliseconds(),
		Retention: &promconfig.TSDBRetentionConfig{
			Time: model.Duration(retention),
		},
	}
	// The TSDB ignores a zero size here: lifting a size cap needs a restart.
	c.StorageConfig.TSDBConfig.Retention.Size = units.Base2Bytes(retentionSize)
	return s.DB.ApplyConfig(&c)
}

// Stats implements the query API's TSDB status source.
func (s *Store) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	return s.Head().Stats(statsByLabelName, limit), nil
}

// WALReplayStatus implements the query API's TSDB status source.
func (s *Store) WALReplayStatus() (tsdb.WALReplayStatus, error) {
	return s.stats.Head.WALReplayStatus.GetWALReplayStatus(), nil
}

// BlockMetas lists the persisted blocks.
func (s *Store) BlockMetas() ([]tsdb.BlockMeta, error) {
	return s.DB.BlockMetas(), nil
}

var _ storage.Storage = (*Store)(nil)
