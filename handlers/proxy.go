package handlers

import (
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// Proxy hands requests to an upstream application that speaks HTTP
// (gunicorn, uvicorn, waitress, any HTTP/1.1 server): nginx's proxy_pass,
// Caddy's reverse_proxy. With Static set, a GET or HEAD for a file that
// exists below its root is answered from there first and everything else
// goes to the application (Caddy's file_server in front of
// reverse_proxy): the one-liner gale -root DIR -proxy ADDR.
type Proxy struct {
	Upstream *upstream.Upstream
	// Static, when set, serves the files it has.
	Static *Static
	// Internal serves the application's X-Accel-Redirects; nil means
	// Static, if set (static files only: the application is never asked
	// again).
	Internal Handler
}

// NewProxy returns a Proxy to u, serving static's files first when
// static is not nil.
func NewProxy(u *upstream.Upstream, static *Static) *Proxy {
	return &Proxy{Upstream: u, Static: static}
}

// Serve implements Handler.
func (p *Proxy) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	if p.Static != nil && (req.Method == httpcodec.MethodGet || req.Method == httpcodec.MethodHead) {
		p.Static.Serve(ctx, req, resp)
		if resp.Status != 404 && resp.Status != 403 {
			return
		}
		resp.Reset()
	}
	r := resp.RouteUpstream(p.Upstream, "", nil, nil)
	r.Internal = p.Internal
	if r.Internal == nil && p.Static != nil {
		r.Internal = p.Static
	}
}
