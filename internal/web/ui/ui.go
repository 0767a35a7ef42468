// Package ui serves the web interface: the single-page application built by
// `make ui` from web/ into dist/ and embedded in the binary. Files below
// /assets/ have hashed names and are cached for good; every other path gets
// index.html, whose router shows the page. A binary built without the UI
// (only dist/.keep present) answers with a page saying how to build it.
package ui

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is served in place of index.html when the UI was not built.
const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SayPro Monitor</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>SayPro Monitor</h1>
<p>The web UI was not built into this binary: run <code>make ui</code> (needs Node.js and npm), then <code>make build</code>.</p>
<p>The APIs under <a href="/api/v1/">/api/v1/</a> work without it.</p>
</body></html>
`

// contentTypes maps the extensions the build produces to their types, so
// that serving does not depend on the system's MIME tables.
var contentTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".html":  "text/html; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".ico":   "image/x-icon",
	".webp":  "image/webp",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
	".wasm":  "application/wasm",
}

// Handler serves the UI from the embedded build.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded; this cannot fail.
	}
	return newHandler(sub)
}

// Built reports whether the UI was built into this binary.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}

func newHandler(files fs.FS) http.Handler {
	index, _ := fs.ReadFile(files, "index.html") // nil when the UI was not built
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if rest, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok || r.URL.Path == "/assets" {
			serveAsset(w, r, files, rest)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("X-Frame-Options", "DENY")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		if index == nil {
			_, _ = w.Write([]byte(notBuilt))
			return
		}
		_, _ = w.Write(index)
	})
}

func serveAsset(w http.ResponseWriter, r *http.Request, files fs.FS, rest string) {
	name := "assets/" + rest
	if rest == "" || strings.HasSuffix(rest, "/") || !fs.ValidPath(name) || path.Clean(name) != name {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	// Asset names carry a hash of their content: they never change.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
