package main

import (
	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// appHandler hands every request to one FastCGI application that routes by
// path itself (a Go, Python or Node app, as opposed to a directory of PHP
// scripts): SCRIPT_NAME is the request path, there is no PATH_INFO.
type appHandler struct {
	u    *upstream.Upstream
	root string
}

// Serve implements handlers.Handler.
func (h *appHandler) Serve(_ *handlers.Ctx, req *httpcodec.Request, resp *handlers.Response) {
	resp.RouteUpstream(h.u, h.root, req.Path, nil)
}
