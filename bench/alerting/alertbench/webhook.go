package main

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// notification is the part of Alertmanager's webhook payload the
// benchmark reads.
type notification struct {
	Status      string            `json:"status"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// groupKey names an alert group by its grouping labels as configYAML
// groups them: alertname and trial, group or probe.
func groupKey(l map[string]string) string {
	k := l["alertname"]
	for _, n := range []string{"trial", "group", "probe"} {
		if v, ok := l[n]; ok {
			k += "/" + v
		}
	}
	return k
}

// webhooks serves /fast (answers at once) and /slow (answers after
// slowDelay), and records when each group's first firing notification
// arrived.
type webhooks struct {
	slowDelay time.Duration

	mu      sync.Mutex
	first   map[string]time.Time        // group key -> first firing notification
	waiters map[string][]chan time.Time // group key -> waiting for it
	fast    counts
	slow    counts
	bad     int // requests that were not a webhook payload
}

type counts struct {
	Requests   int       `json:"requests"`
	Alerts     int       `json:"alerts"`
	Groups     int       `json:"distinct_groups"`
	FirstAt    time.Time `json:"first_at"`
	LastAt     time.Time `json:"last_at"`
	groupsLast time.Time // when the last group not seen before arrived
	groupsSeen map[string]bool
}

func newWebhooks(slowDelay time.Duration) *webhooks {
	return &webhooks{
		slowDelay: slowDelay,
		first:     map[string]time.Time{},
		waiters:   map[string][]chan time.Time{},
		fast:      counts{groupsSeen: map[string]bool{}},
		slow:      counts{groupsSeen: map[string]bool{}},
	}
}

func (w *webhooks) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(r.Body)
	var n notification
	if err == nil {
		err = json.Unmarshal(body, &n)
	}
	slow := r.URL.Path == "/slow"
	w.mu.Lock()
	if err != nil || (r.URL.Path != "/fast" && !slow) {
		w.bad++
		w.mu.Unlock()
		http.Error(rw, "not a webhook payload", http.StatusBadRequest)
		return
	}
	c := &w.fast
	if slow {
		c = &w.slow
	}
	key := groupKey(n.GroupLabels)
	c.Requests++
	c.Alerts += len(n.Alerts)
	if !c.groupsSeen[key] {
		c.groupsSeen[key] = true
		c.Groups++
		c.groupsLast = now
	}
	if c.FirstAt.IsZero() {
		c.FirstAt = now
	}
	c.LastAt = now
	firing := n.Status == "firing"
	if _, seen := w.first[key]; firing && !seen {
		w.first[key] = now
		for _, ch := range w.waiters[key] {
			ch <- now
		}
		delete(w.waiters, key)
	}
	w.mu.Unlock()
	if slow && w.slowDelay > 0 {
		select {
		case <-time.After(w.slowDelay):
		case <-r.Context().Done():
		}
	}
	rw.WriteHeader(http.StatusOK)
}

// wait returns a channel that receives the time of the first firing
// notification of group key (at once if it already arrived).
func (w *webhooks) wait(key string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.first[key]; ok {
		ch <- t
		return ch
	}
	w.waiters[key] = append(w.waiters[key], ch)
	return ch
}

func (w *webhooks) snapshot() (fast, slow counts, bad int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fast, w.slow, w.bad
}
