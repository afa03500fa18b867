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
	routes []route // longest prefix first
}

type route struct {
	prefix []byte
	h      Handler
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

// Serve implements Handler: the longest prefix's handler serves the
// request; without a match the answer is 404.
func (rt *Router) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	for i := range rt.routes {
		if bytes.HasPrefix(req.Path, rt.routes[i].prefix) {
			rt.routes[i].h.Serve(ctx, req, resp)
			return
		}
	}
	errorFor(ctx, req, resp, 404)
}
