package main

import (
	"bytes"
	"strings"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// appHandler hands every request to one application that routes by path
// itself (a Go, Python or Node app, as opposed to a directory of PHP
// scripts), whatever the protocol: SCRIPT_NAME is where the location
// mounts the application (its prefix without the trailing slash, empty
// for "/") and PATH_INFO the rest of the path, as nginx's uwsgi_params and
// every WSGI gateway give them. A WSGI or Rack application routes on
// PATH_INFO and builds its URLs from SCRIPT_NAME; Go's net/http/fcgi reads
// REQUEST_URI and does not care.
type appHandler struct {
	u     *upstream.Upstream
	root  string
	mount []byte // SCRIPT_NAME: the location's prefix, "" for "/" or an ext location
	// internal serves the application's X-Accel-Redirects (the vhost's
	// router: its internal locations and static files).
	internal handlers.Handler
}

// newAppHandler returns the handler of a pass location with prefix (""
// for an extension location).
func newAppHandler(u *upstream.Upstream, root, prefix string, internal handlers.Handler) *appHandler {
	return &appHandler{u: u, root: root, mount: []byte(strings.TrimSuffix(prefix, "/")), internal: internal}
}

// Serve implements handlers.Handler.
func (h *appHandler) Serve(_ *handlers.Ctx, req *httpcodec.Request, resp *handlers.Response) {
	script, pathInfo := h.mount, req.Path
	if rest, ok := bytes.CutPrefix(pathInfo, script); ok && (len(rest) == 0 || rest[0] == '/') {
		pathInfo = rest
	} else {
		// An extension location matched a path outside the mount, or a
		// prefix without its slash matched the start of a longer name
		// ("/app" and "/apple"): the application sees the whole path.
		script = nil
	}
	r := resp.RouteUpstream(h.u, h.root, script, pathInfo)
	r.Internal = h.internal
}
