package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	built := fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><title>SayPro Monitor</title><div id="app"></div>`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log(1)`)},
		"assets/index-abc123.css": {Data: []byte(`body{}`)},
		"assets/font.woff2":       {Data: []byte{0, 1, 2}},
		"assets/sub/x.svg":        {Data: []byte(`<svg/>`)},
		".keep":                   {Data: nil},
	}
	empty := fstest.MapFS{".keep": {Data: nil}}
	const immutable = "public, max-age=31536000, immutable"

	for _, tc := range []struct {
		name         string
		files        fstest.MapFS
		method, path string
		status       int
		contentType  string
		cache        string
		body         string // contained in the body
	}{
		{"index at root", built, "GET", "/", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"spa route", built, "GET", "/hosts/db-1", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"deep spa route with query", built, "GET", "/admin/users?x=1", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"head", built, "HEAD", "/login", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"js asset", built, "GET", "/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", immutable, "console.log"},
		{"css asset", built, "GET", "/assets/index-abc123.css", 200, "text/css; charset=utf-8", immutable, "body{}"},
		{"font asset", built, "GET", "/assets/font.woff2", 200, "font/woff2", immutable, ""},
		{"nested asset", built, "GET", "/assets/sub/x.svg", 200, "image/svg+xml", immutable, "<svg/>"},
		{"missing asset", built, "GET", "/assets/nope.js", 404, "", "", ""},
		{"asset dir", built, "GET", "/assets/sub/", 404, "", "", ""},
		{"assets root", built, "GET", "/assets/", 404, "", "", ""},
		{"asset traversal", built, "GET", "/assets/../index.html", 404, "", "", ""},
		{"post refused", built, "POST", "/", 405, "", "", ""},
		{"not built root", empty, "GET", "/", 200, "text/html; charset=utf-8", "no-cache", "run <code>make ui</code>"},
		{"not built route", empty, "GET", "/checks", 200, "text/html; charset=utf-8", "no-cache", "The web UI was not built into this binary"},
		{"not built asset", empty, "GET", "/assets/index.js", 404, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://x"+tc.path, nil)
			// httptest cleans nothing; keep a raw ".." path as a client could send it.
			if strings.Contains(tc.path, "..") {
				req.URL.Path = tc.path
			}
			rec := httptest.NewRecorder()
			newHandler(tc.files).ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.contentType != "" {
				require.Equal(t, tc.contentType, rec.Header().Get("Content-Type"))
			}
			if tc.cache != "" {
				require.Equal(t, tc.cache, rec.Header().Get("Cache-Control"))
			}
			require.Contains(t, rec.Body.String(), tc.body)
			if tc.status == 200 {
				require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			}
		})
	}
}

func TestHandlerEmbedded(t *testing.T) {
	// Works whether or not the UI was built: with only dist/.keep, the
	// not-built page; with a build, index.html.
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/overview", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	if Built() {
		require.Contains(t, rec.Body.String(), `id="app"`)
	} else {
		require.Contains(t, rec.Body.String(), "The web UI was not built into this binary")
	}
}
