package alertmanager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/silence"
	pb "github.com/prometheus/alertmanager/silence/silencepb"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/saypro/monitor/internal/config"
)

// Silence annotations that tie a silence to the maintenance window that
// created it.
const (
	annotationWindow = "saypro.maintenance_window"
	annotationSpec   = "saypro.maintenance_window.matchers"
	windowCreatedBy  = "SayPro maintenance window"
)

// The reminder raised before a silence ends.
const (
	ReminderAlertName = "SilenceExpiring"
)

// occurrence is one opening of a maintenance window.
type occurrence struct{ start, end time.Time }

// occurrences returns the occurrences of w that overlap [from, to).
func occurrences(w *config.MaintenanceWindow, from, to time.Time) []occurrence {
	loc := w.Location
	if loc == nil {
		loc = time.Local
	}
	dur := time.Duration(w.Duration)
	h, m := int(w.StartOffset/time.Hour), int(w.StartOffset%time.Hour/time.Minute)
	first := from.Add(-dur).In(loc)
	var out []occurrence
	for d := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc); d.Before(to); d = d.AddDate(0, 0, 1) {
		if !windowDay(w, d) {
			continue
		}
		start := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
		end := start.Add(dur)
		if end.After(from) && start.Before(to) {
			out = append(out, occurrence{start, end})
		}
	}
	return out
}

// windowDay reports whether an occurrence of w starts on day d.
func windowDay(w *config.MaintenanceWindow, d time.Time) bool {
	switch w.Every {
	case "day":
		return true
	case "week":
		return slices.Contains(w.Days, d.Weekday())
	case "month":
		last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, d.Location()).Day()
		for _, dom := range w.DaysOfMonth {
			if dom > 0 && d.Day() == dom || dom < 0 && d.Day() == last+dom+1 {
				return true
			}
		}
	}
	return false
}

// scheduleLoop keeps the maintenance windows' silences and the silence
// reminders up to date.
func (am *Alertmanager) scheduleLoop(ctx context.Context) {
	tick := time.NewTicker(scheduleInterval)
	defer tick.Stop()
	reminded := map[string]time.Time{}
	for {
		if s := am.schedule.Load(); s != nil {
			now := time.Now()
			am.syncWindows(ctx, s.windows, now)
			am.remind(ctx, s.reminder, now, reminded)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-am.kick:
		}
	}
}

// syncWindows makes sure that every occurrence of a maintenance window
// within scheduleHorizon has its silence, and expires the silences of
// windows that were removed or changed.
func (am *Alertmanager) syncWindows(ctx context.Context, windows []config.MaintenanceWindow, now time.Time) {
	type key struct {
		name, spec string
		end        int64
	}
	want := map[key]*pb.Silence{}
	for i := range windows {
		w := &windows[i]
		spec := w.Selectors.String()
		for _, o := range occurrences(w, now, now.Add(scheduleHorizon)) {
			comment := w.Comment
			if comment == "" {
				comment = "Maintenance window " + w.Name
			}
			want[key{w.Name, spec, o.end.UnixMilli()}] = &pb.Silence{
				MatcherSets: []*pb.MatcherSet{{Matchers: silenceMatchers(w.Selectors)}},
				StartsAt:    timestamppb.New(o.start),
				EndsAt:      timestamppb.New(o.end),
				CreatedBy:   windowCreatedBy,
				Comment:     comment,
				Annotations: map[string]string{annotationWindow: w.Name, annotationSpec: spec},
			}
		}
	}
	existing, _, err := am.silences.Query(ctx, silence.QState(silence.SilenceStateActive, silence.SilenceStatePending))
	if err != nil {
		am.logger.Error("maintenance windows: listing silences", "err", err)
		return
	}
	for _, s := range existing {
		name, ok := s.Annotations[annotationWindow]
		if !ok {
			continue
		}
		k := key{name, s.Annotations[annotationSpec], s.EndsAt.AsTime().UnixMilli()}
		if _, ok := want[k]; ok {
			delete(want, k)
			continue
		}
		if err := am.silences.Expire(ctx, s.Id); err != nil {
			am.logger.Warn("maintenance windows: expiring the silence of a removed or changed window", "window", name, "silence", s.Id, "err", err)
			continue
		}
		am.logger.Info("maintenance window silence expired: the window was removed or changed", "window", name, "silence", s.Id)
	}
	for k, s := range want {
		if err := am.silences.Set(ctx, s); err != nil {
			am.logger.Error("maintenance windows: creating a silence", "window", k.name, "err", err)
			continue
		}
		am.metrics.windowSilences.Inc()
		am.logger.Info("maintenance window scheduled", "window", k.name, "silence", s.Id,
			"starts", s.StartsAt.AsTime().Local().Format(time.RFC3339), "ends", s.EndsAt.AsTime().Local().Format(time.RFC3339))
		am.publish("silence", map[string]any{"action": "scheduled", "silence_id": s.Id, "maintenance_window": k.name,
			"starts_at": s.StartsAt.AsTime(), "ends_at": s.EndsAt.AsTime()})
	}
}

func silenceMatchers(ms labels.Matchers) []*pb.Matcher {
	out := make([]*pb.Matcher, 0, len(ms))
	for _, m := range ms {
		t := pb.Matcher_EQUAL
		switch m.Type {
		case labels.MatchNotEqual:
			t = pb.Matcher_NOT_EQUAL
		case labels.MatchRegexp:
			t = pb.Matcher_REGEXP
		case labels.MatchNotRegexp:
			t = pb.Matcher_NOT_REGEXP
		}
		out = append(out, &pb.Matcher{Type: t, Name: m.Name, Pattern: m.Value})
	}
	return out
}

// remind raises a SilenceExpiring alert for every active silence that
// ends within rc.Before (and lasts at least rc.MinDuration), routed like
// any alert, and resolves it when the silence is extended or ends.
// reminded maps silence IDs to when their reminder started.
func (am *Alertmanager) remind(ctx context.Context, rc config.SilenceReminderConfig, now time.Time, reminded map[string]time.Time) {
	due := map[string]*pb.Silence{}
	if rc.Before > 0 {
		active, _, err := am.silences.Query(ctx, silence.QState(silence.SilenceStateActive))
		if err != nil {
			am.logger.Error("silence reminders: listing silences", "err", err)
			return
		}
		for _, s := range active {
			if _, ok := s.Annotations[annotationWindow]; ok {
				continue
			}
			start, end := s.StartsAt.AsTime(), s.EndsAt.AsTime()
			if end.Sub(now) <= time.Duration(rc.Before) && end.Sub(start) >= time.Duration(rc.MinDuration) {
				due[s.Id] = s
			}
		}
	}
	var put []*types.Alert
	for id, s := range due {
		started, ok := reminded[id]
		if !ok {
			started = now
			reminded[id] = now
			am.metrics.reminders.Inc()
			am.logger.Info("silence about to end", "silence", id, "ends", s.EndsAt.AsTime().Local().Format(time.RFC3339), "created_by", s.CreatedBy)
			am.publish("silence", map[string]any{"action": "expiring", "silence_id": id, "ends_at": s.EndsAt.AsTime(), "created_by": s.CreatedBy, "comment": s.Comment})
		}
		put = append(put, reminderAlert(s, started, s.EndsAt.AsTime(), now))
	}
	for id, started := range reminded {
		if _, ok := due[id]; ok {
			continue
		}
		delete(reminded, id)
		put = append(put, reminderAlert(&pb.Silence{Id: id}, started, now, now))
	}
	if len(put) > 0 {
		if err := am.alerts.Put(ctx, put...); err != nil {
			am.logger.Error("silence reminders", "err", err)
		}
	}
}

func reminderAlert(s *pb.Silence, start, end, now time.Time) *types.Alert {
	a := &types.Alert{
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.AlertNameLabel: ReminderAlertName,
				"severity":           "info",
				"silence_id":         model.LabelValue(s.Id),
			},
			StartsAt: start,
			EndsAt:   end,
		},
		UpdatedAt: now,
	}
	if s.EndsAt != nil {
		var ms []string
		for _, set := range s.MatcherSets {
			for _, m := range set.Matchers {
				ms = append(ms, matcherString(m))
			}
		}
		left := s.EndsAt.AsTime().Sub(now).Round(time.Minute)
		a.Annotations = model.LabelSet{
			"summary": model.LabelValue(fmt.Sprintf("Silence %s by %s ends in %s", short(s.Id), s.CreatedBy, left)),
			"description": model.LabelValue(fmt.Sprintf("The silence {%s} (%q) ends at %s; the alerts it mutes will notify again. Extend it with `amtool silence update --duration=2h %s` if the work is not done.",
				strings.Join(ms, ", "), s.Comment, s.EndsAt.AsTime().Format(time.RFC3339), s.Id)),
		}
	}
	return a
}

func matcherString(m *pb.Matcher) string {
	op := map[pb.Matcher_Type]string{pb.Matcher_EQUAL: "=", pb.Matcher_NOT_EQUAL: "!=", pb.Matcher_REGEXP: "=~", pb.Matcher_NOT_REGEXP: "!~"}[m.Type]
	return fmt.Sprintf("%s%s%q", m.Name, op, m.Pattern)
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
