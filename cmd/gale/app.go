package main

import (
	"bytes"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/upstream"
)

// appHandler hands every request to one application that routes by path
// itself (a Go, Python or Node app, as opposed to a directory of PHP
// scripts): SCRIPT_NAME is the request path, there is no PATH_INFO; or,
// with pathInfo (SCGI and uwsgi, where the applications are WSGI ones), PATH_INFO
// is the path and SCRIPT_NAME empty, as nginx's scgi and uwsgi params
// give them: a WSGI app takes SCRIPT_NAME for where it is mounted.
type appHandler struct {
	u        *upstream.Upstream
	root     string
	pathInfo bool
	// mount, for gale's wsgi workers at a location below "/" ("/py/"),
	// is the location's prefix without its final slash: it becomes
	// SCRIPT_NAME and PATH_INFO the rest, so the application builds its
	// URLs under the mount point (PEP 3333).
	mount []byte
}

// Serve implements handlers.Handler.
func (h *appHandler) Serve(_ *handlers.Ctx, req *httpcodec.Request, resp *handlers.Response) {
	if len(h.mount) > 0 && bytes.HasPrefix(req.Path, h.mount) {
		resp.RouteUpstream(h.u, h.root, req.Path[:len(h.mount)], req.Path[len(h.mount):])
		return
	}
	if h.pathInfo {
		resp.RouteUpstream(h.u, h.root, nil, req.Path)
		return
	}
	resp.RouteUpstream(h.u, h.root, req.Path, nil)
}

// wsgiParams reports whether a pass location to upstream c maps paths as
// nginx's scgi and uwsgi params do (PATH_INFO the path, SCRIPT_NAME
// empty): the protocols of WSGI servers, and gale's own wsgi workers.
func wsgiParams(c *config.Upstream) bool {
	return c.Protocol == "scgi" || c.Protocol == "uwsgi" || c.WSGI != nil
}
