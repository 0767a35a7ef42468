// Package docs embeds the documents the server serves itself: the
// runbooks that the built-in alerts link to, at /runbooks/<alert>.
package docs

import (
	"embed"
	"io/fs"
)

//go:embed runbooks/*.md
var runbooks embed.FS

// Runbooks returns the runbooks, one <alert>.md each, and README.md.
func Runbooks() fs.FS {
	sub, err := fs.Sub(runbooks, "runbooks")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
