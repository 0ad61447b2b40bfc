package api

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// explorerFiles is the block explorer: plain HTML, CSS and JavaScript,
// embedded so that every node serves it with no build step and nothing
// fetched from elsewhere (docs/explorer.md).
//
//go:embed explorer
var explorerFiles embed.FS

// explorerCSP keeps the page to its own origin: no CDN, no inline script.
const explorerCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// handleExplorer mounts the explorer page at / and /explorer, its assets
// under /explorer/, and the read-only endpoints written for it
// (history.go).
func (s *server) handleExplorer() {
	index := func(w http.ResponseWriter, r *http.Request) error { return serveExplorerFile(w, r, "index.html") }
	s.handle("GET", "/{$}", index)
	s.handle("GET", "/explorer", index)
	s.handle("GET", "/explorer/{file...}", func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("file")
		if name == "" {
			name = "index.html"
		}
		return serveExplorerFile(w, r, name)
	})
	s.handleHistory()
}

// explorerTypes are the content types of the files we ship; a fixed table
// rather than mime.TypeByExtension, which the host's mime.types can change.
var explorerTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

func serveExplorerFile(w http.ResponseWriter, r *http.Request, name string) error {
	if !fs.ValidPath(name) || strings.Contains(name, "..") {
		return errorf(http.StatusNotFound, "not_found", "no explorer file %q", name)
	}
	data, err := explorerFiles.ReadFile(path.Join("explorer", name))
	if errors.Is(err, fs.ErrNotExist) || (err != nil && strings.Contains(err.Error(), "is a directory")) {
		return errorf(http.StatusNotFound, "not_found", "no explorer file %q; the page is at /", name)
	}
	if err != nil {
		return err
	}
	ct, ok := explorerTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", explorerCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache") // a node upgrade changes the files under the same names
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
	return nil
}
