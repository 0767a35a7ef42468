package alertmanager

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/nflog/nflogpb"
)

// persistingLog is the notification log the pipeline writes to: every
// entry marks the log for writing to disk at once, so that a crash right
// after a notification does not send it again after the restart.
type persistingLog struct {
	log   *nflog.Log
	dirty chan<- struct{}
}

func (l persistingLog) Query(params ...nflog.QueryParam) ([]*nflogpb.Entry, error) {
	return l.log.Query(params...)
}

func (l persistingLog) Log(r *nflogpb.Receiver, gkey string, firing, resolved []uint64, store *nflog.Store, expiry time.Duration) error {
	err := l.log.Log(r, gkey, firing, resolved, store, expiry)
	select {
	case l.dirty <- struct{}{}:
	default:
	}
	return err
}

// persistLoop writes the notification log when it changes and the
// silences within persistInterval of a change, and collects garbage every
// gcInterval.
func (am *Alertmanager) persistLoop(ctx context.Context) {
	tick := time.NewTicker(persistInterval)
	defer tick.Stop()
	gc := time.NewTicker(gcInterval)
	defer gc.Stop()
	version := am.silences.Version()
	for {
		select {
		case <-ctx.Done():
			return
		case <-am.nflogDirty:
			am.writeSnapshot("nflog", am.nflogFile(), am.nflog.Snapshot)
		case <-tick.C:
			if v := am.silences.Version(); v != version {
				version = v
				am.writeSnapshot("silences", am.silencesFile(), am.silences.Snapshot)
			}
		case <-gc.C:
			if _, err := am.silences.GC(); err != nil {
				am.logger.Warn("garbage-collecting silences", "err", err)
			}
			if _, err := am.nflog.GC(); err != nil {
				am.logger.Warn("garbage-collecting the notification log", "err", err)
			}
			am.persist()
		}
	}
}

// persist writes both snapshots.
func (am *Alertmanager) persist() {
	am.writeSnapshot("silences", am.silencesFile(), am.silences.Snapshot)
	am.writeSnapshot("nflog", am.nflogFile(), am.nflog.Snapshot)
}

// writeSnapshot replaces path with a new snapshot: written to a temporary
// file, synced, then renamed over the old one, so that a crash leaves
// either the old or the new snapshot whole.
func (am *Alertmanager) writeSnapshot(name, path string, snapshot func(io.Writer) (int64, error)) {
	if err := replaceFile(path, snapshot); err != nil {
		am.metrics.snapshotErrors.WithLabelValues(name).Inc()
		am.logger.Error("writing snapshot; the state since the last good one is lost if the server stops now", "state", name, "file", path, "err", err)
	}
}

func replaceFile(path string, write func(io.Writer) (int64, error)) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
