package handlers

import (
	"bytes"
	"sort"

	"github.com/gale-http/gale/httpcodec"
)

// Router dispatches on the longest matching path prefix, like nginx's
// prefix locations. It is configured before serving starts and read-only
// afterwards, so loops share it without locks.
type Router struct {
	// ServerName is the vhost's name, the SERVER_NAME of the requests
	// its locations hand to applications (nginx's $server_name); empty
	// when the vhost has no name of its own (a wildcard, or none).
	ServerName []byte

	exts   []extRoute // checked first, in order
	routes []route    // longest prefix first
}

type route struct {
	prefix []byte
	h      Handler
}

type extRoute struct {
	ext, extSlash []byte // ".php", ".php/"
	h             Handler
}

// HandleExt maps requests whose path ends with ext (".php"), or has it at
// the end of a segment followed by more path ("/index.php/x", PATH_INFO),
// to h. Extension routes are checked before prefixes, in the order added,
// like nginx's regex locations.
func (rt *Router) HandleExt(ext string, h Handler) {
	rt.exts = append(rt.exts, extRoute{[]byte(ext), []byte(ext + "/"), h})
}

// Handle maps requests whose path starts with prefix to h. A later Handle
// with the same prefix replaces the earlier one. "/" catches everything.
func (rt *Router) Handle(prefix string, h Handler) {
	for i := range rt.routes {
		if string(rt.routes[i].prefix) == prefix {
			rt.routes[i].h = h
			return
		}
	}
	rt.routes = append(rt.routes, route{[]byte(prefix), h})
	sort.SliceStable(rt.routes, func(i, j int) bool {
		return len(rt.routes[i].prefix) > len(rt.routes[j].prefix)
	})
}

// Serve implements Handler: the first matching extension's handler, else
// the longest prefix's, serves the request; without a match the answer is
// 404.
func (rt *Router) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	if h := rt.match(req.Path); h != nil {
		h.Serve(ctx, req, resp)
		if resp.Upstream != nil {
			resp.Upstream.ServerName = rt.ServerName
		}
		return
	}
	errorFor(ctx, req, resp, 404)
}

// match returns the handler of the location that path falls in, or nil.
func (rt *Router) match(path []byte) Handler {
	for i := range rt.exts {
		e := &rt.exts[i]
		if bytes.HasSuffix(path, e.ext) || bytes.Contains(path, e.extSlash) {
			return e.h
		}
	}
	for i := range rt.routes {
		if bytes.HasPrefix(path, rt.routes[i].prefix) {
			return rt.routes[i].h
		}
	}
	return nil
}

// Internal returns the handler for internal redirects (X-Accel-Redirect)
// from applications behind this router: the same locations, where each
// serves the redirect with its ServeInternal if it has one (internal
// locations are reachable only this way). A location that would hand the
// redirect to an application answers 404: the reactor serves internal
// redirects synchronously, from files.
func (rt *Router) Internal() Handler { return internalRouter{rt} }

// internalRouter is Router.Internal; a one-pointer struct, so storing it
// in a Handler allocates nothing.
type internalRouter struct{ rt *Router }

// Serve implements Handler.
func (ir internalRouter) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	h := ir.rt.match(req.Path)
	switch ih, ok := h.(InternalHandler); {
	case h == nil:
		errorFor(ctx, req, resp, 404)
		return
	case ok:
		ih.ServeInternal(ctx, req, resp)
	default:
		h.Serve(ctx, req, resp)
	}
	if resp.Upstream != nil {
		resp.Reset()
		errorFor(ctx, req, resp, 404)
	}
}
