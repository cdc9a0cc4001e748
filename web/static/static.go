// Package static holds the trainee's browser app: plain HTML, CSS and
// ES-module JavaScript, embedded so the server binary needs no build step and
// no files on disk. The app talks to the server only through the wire
// contract (shared/PROTOCOL.md): the JSON API and the /ws WebSocket.
package static

import (
	"embed"
	"io/fs"
)

// The asset list is explicit so Go sources and tests are never served.
//
//go:embed index.html favicon.svg css js contest trainer
var assets embed.FS

// FS returns the app's files rooted at the site root ("index.html",
// "css/app.css", "js/app.js", ...), ready for http.FileServerFS.
func FS() fs.FS { return assets }
