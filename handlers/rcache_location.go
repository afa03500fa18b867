package handlers

import (
	"bytes"
	"hash/maphash"

	"github.com/gale-http/gale/httpcodec"
)

// Cached puts a location's upstream requests under its response cache
// policy, whatever serves them (a proxy, a front controller, a FastCGI,
// uwsgi, SCGI or CGI application): the reactor looks the request up and
// tees the response. Responses the handler builds itself (static files,
// errors) are not involved.
type Cached struct {
	Handler Handler
	Policy  *CachePolicy
}

// Serve implements Handler.
func (h *Cached) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	h.Handler.Serve(ctx, req, resp)
	if resp.Upstream != nil {
		resp.Upstream.Cache = h.Policy
	}
}

// ServeInternal implements InternalHandler: internal redirects are the
// inner handler's business.
func (h *Cached) ServeInternal(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	if ih, ok := h.Handler.(InternalHandler); ok {
		ih.ServeInternal(ctx, req, resp)
		return
	}
	h.Handler.Serve(ctx, req, resp)
}

// InvalidationKey copies the primary key of an unsafe request, to
// invalidate once its response proves successful; hostLen is the
// length of its host part.
func InvalidationKey(req *httpcodec.Request) (key []byte, hostLen int) {
	return appendKey(nil, req), len(req.Host)
}

// Invalidate drops the entries of the request's key and of the URIs a
// successful response to an unsafe method names in Location and
// Content-Location, when they are on the same host (RFC 9111 section
// 4.4: another host's could be poisoned this way).
func (p *CachePolicy) Invalidate(key []byte, hostLen int, uris ...[]byte) {
	c := p.Cache
	c.st.del(maphash.Bytes(c.seed, key))
	host := key[:hostLen]
	for _, u := range uris {
		switch {
		case len(u) == 0:
			continue
		case u[0] == '/' && (len(u) == 1 || u[1] != '/'):
		default:
			rest, ok := bytes.CutPrefix(u, []byte("http://"))
			if !ok {
				if rest, ok = bytes.CutPrefix(u, []byte("https://")); !ok {
					continue // relative without a slash: not worth resolving
				}
			}
			i := bytes.IndexByte(rest, '/')
			if i < 0 || !bytes.EqualFold(rest[:i], host) {
				continue
			}
			u = rest[i:]
		}
		k := append(append([]byte(nil), host...), u...)
		c.st.del(maphash.Bytes(c.seed, k))
	}
}
