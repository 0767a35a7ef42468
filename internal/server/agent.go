package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/checks"
	"github.com/saypro/monitor/internal/inventory"
)

// localSink is the in-process agent's sink: samples go straight into the
// embedded store and heartbeats straight into the inventory, with no
// network, token or queue in between.
type localSink struct {
	store     storage.Appendable
	inventory *inventory.Inventory
	checks    *checks.Manager
}

// Write appends one collection. Samples the store refuses (out of order
// after a clock jump, say) are skipped; the rest are kept.
func (l localSink) Write(ctx context.Context, series []prompb.TimeSeries) error {
	app := l.store.Appender(ctx)
	var b labels.ScratchBuilder
	var firstErr error
	refused := 0
	for _, ts := range series {
		b.Reset()
		for _, l := range ts.Labels {
			b.Add(l.Name, l.Value)
		}
		b.Sort()
		lset := b.Labels()
		for _, s := range ts.Samples {
			if _, err := app.Append(0, lset, s.Timestamp, s.Value); err != nil {
				refused++
				if firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("storing the host's samples: %w", err)
	}
	if firstErr != nil && !errors.Is(firstErr, storage.ErrDuplicateSampleForTimestamp) {
		return fmt.Errorf("%d samples refused by the store, first: %w", refused, firstErr)
	}
	return nil
}

// Heartbeat records the server's own host in the inventory.
func (l localSink) Heartbeat(ctx context.Context, hb agentapi.Heartbeat) (agentapi.HeartbeatResponse, error) {
	if err := l.inventory.Heartbeat(ctx, hb, "in-process"); err != nil {
		return agentapi.HeartbeatResponse{}, err
	}
	return agentapi.HeartbeatResponse{ServerTime: time.Now().UTC(), Checks: l.checks.ChecksFor(agentLabels(hb))}, nil
}

// CheckResults records the states of the checks the in-process agent ran.
func (l localSink) CheckResults(ctx context.Context, rs agentapi.CheckResults) error {
	return l.checks.RecordRemote(ctx, rs)
}

// agentLabels are the labels run_on selects agents by: the agent's own
// labels and its instance.
func agentLabels(hb agentapi.Heartbeat) map[string]string {
	ls := make(map[string]string, len(hb.Labels)+1)
	for k, v := range hb.Labels {
		ls[k] = v
	}
	ls["instance"] = hb.Instance
	return ls
}
