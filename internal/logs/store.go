package logs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Store keeps entries and answers queries over them.
type Store interface {
	// Add stores entries; it fails as a whole (nothing stored) when the
	// store cannot take them, for example when its disk is full.
	Add(entries []Entry) error
	// Search returns up to limit entries matching f, newest first, after
	// the cursor (nil: from f.End), and the next page's cursor (nil at
	// the end).
	Search(ctx context.Context, f Filter, limit int, after *Cursor) ([]Entry, *Cursor, error)
	// Histogram counts entries per step by severity, from f.Start to f.End.
	Histogram(ctx context.Context, f Filter, step time.Duration) ([]Bucket, uint64, error)
	// Values returns the most frequent values of a field.
	Values(ctx context.Context, f Filter, field string, limit int) ([]Value, error)
	// CountBy counts entries grouped by fields, leaving out groups under min.
	CountBy(ctx context.Context, f Filter, by []string, min uint64) ([]Group, error)
}

// Cursor marks where a page of newest-first results ended: entries at
// Time or later were shown, Skip of them exactly at Time.
type Cursor struct {
	Time time.Time
	Skip int
}

// String encodes c for an API answer.
func (c Cursor) String() string {
	return strconv.FormatInt(c.Time.UnixNano(), 36) + "." + strconv.Itoa(c.Skip)
}

// ParseCursor decodes a cursor from Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	ts, skip, ok := strings.Cut(s, ".")
	if !ok {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	n, err1 := strconv.ParseInt(ts, 36, 64)
	k, err2 := strconv.Atoi(skip)
	if err1 != nil || err2 != nil || k < 0 {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	return Cursor{Time: time.Unix(0, n), Skip: k}, nil
}

// Bucket is one bar of a histogram.
type Bucket struct {
	Time       time.Time      `json:"time"`
	Count      uint64         `json:"count"`
	BySeverity map[string]int `json:"by_severity"`
}

// Value is a field value and how many entries carry it.
type Value struct {
	Value string `json:"value"`
	Count uint64 `json:"count"`
}

// Group is one group of a CountBy result.
type Group struct {
	Labels map[string]string
	Count  uint64
}
