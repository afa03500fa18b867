package handlers

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/gale-http/gale/httpcodec"
)

// Location applies a location's rules around the handler that serves it:
// internal-only, access by client address, and response header rules.
// cmd/gale wraps a location's handler in one only when it has rules, so a
// location without them costs nothing. It is configured before serving
// and read-only afterwards.
type Location struct {
	// Handler serves what the rules let through; nil answers 404 (a
	// location that only denies).
	Handler Handler
	// Internal refuses clients' requests with 404: only internal
	// redirects (X-Accel-Redirect) reach Handler (nginx internal).
	Internal bool
	// DenyAll refuses every request, internal redirects too, with 403.
	DenyAll bool
	// Deny refuses clients in these prefixes with 403; checked first.
	Deny []netip.Prefix
	// Allow, when not empty, refuses clients in none of these prefixes
	// with 403.
	Allow []netip.Prefix
	// Headers changes the headers of the 2xx and 3xx responses Handler
	// builds itself or gets from an application; nil changes none.
	Headers *HeaderRules
	// RequestHeaders changes the fields of the requests handed to an
	// application; nil changes none.
	RequestHeaders *RequestHeaderRules
	// Buffering applies to the responses of the applications Handler
	// hands requests to (BufferingOff: streamed as they come).
	Buffering Buffering
}

// Serve implements Handler.
func (l *Location) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	switch {
	case l.Internal:
		errorFor(ctx, req, resp, 404)
	case l.DenyAll || !l.admits(ctx.Client):
		errorFor(ctx, req, resp, 403)
	default:
		l.serve(ctx, req, resp, false)
	}
}

// ServeInternal implements InternalHandler. Address rules are not checked:
// the client's request passed the rules of the location that reached the
// application, the application chose to redirect, and the reactor does
// not tell whose connection an internal redirect belongs to (Ctx.Client
// is stale there).
func (l *Location) ServeInternal(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	if l.DenyAll {
		errorFor(ctx, req, resp, 403)
		return
	}
	l.serve(ctx, req, resp, true)
}

func (l *Location) serve(ctx *Ctx, req *httpcodec.Request, resp *Response, internal bool) {
	switch ih, ok := l.Handler.(InternalHandler); {
	case l.Handler == nil:
		errorFor(ctx, req, resp, 404)
		return
	case internal && ok:
		ih.ServeInternal(ctx, req, resp)
	default:
		l.Handler.Serve(ctx, req, resp)
	}
	if resp.Upstream != nil {
		if l.Buffering != BufferingOn {
			resp.Upstream.Buffering = l.Buffering
		}
		if l.RequestHeaders != nil {
			resp.Upstream.RequestHeaders = l.RequestHeaders
		}
	}
	switch {
	case l.Headers == nil:
	case resp.Upstream != nil:
		resp.Upstream.Headers = l.Headers // applied to the application's head
	case resp.Status >= 200 && resp.Status < 400 && len(resp.Head) > 0:
		l.Headers.apply(ctx, resp)
	}
}

// admits reports whether the access rules let client in.
func (l *Location) admits(client netip.Addr) bool {
	for _, p := range l.Deny {
		if p.Contains(client) {
			return false
		}
	}
	if len(l.Allow) == 0 {
		return true
	}
	for _, p := range l.Allow {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// HeaderRules are response header changes, prepared once: the names that
// lose their lines and the lines that are added.
type HeaderRules struct {
	drop  []string // names whose lines are removed ("set" and "remove")
	lines []byte   // "Name: value\r\n" lines appended ("set" and "add")
}

// NewHeaderRules prepares rules: set replaces (or adds) each header, add
// adds one next to any of the same name, remove drops each named header,
// and maxAge >= 0 sets Cache-Control: max-age (nginx expires). Names and
// values must be valid (internal/config checks them).
func NewHeaderRules(set, add [][2]string, remove []string, maxAge int64) *HeaderRules {
	h := &HeaderRules{}
	if maxAge >= 0 {
		set = append(set, [2]string{"Cache-Control", "max-age=" + strconv.FormatInt(maxAge, 10)})
	}
	for _, kv := range set {
		h.drop = append(h.drop, kv[0])
		h.lines = httpcodec.AppendHeader(h.lines, kv[0], kv[1])
	}
	for _, kv := range add {
		h.lines = httpcodec.AppendHeader(h.lines, kv[0], kv[1])
	}
	for _, name := range remove {
		h.drop = append(h.drop, name)
	}
	return h
}

// apply rewrites resp.Head into ctx.Scratch with the rules applied. A
// cached head is shared by every response, so it is copied, never changed
// in place: the copy costs a few hundred bytes of scratch and no
// allocation once the scratch buffer has grown.
func (h *HeaderRules) apply(ctx *Ctx, resp *Response) {
	if bytes.Index(resp.Head, crlf) < 0 {
		return
	}
	start := len(ctx.Scratch)
	ctx.Scratch = h.AppendHead(ctx.Scratch, resp.Head)
	resp.Head = scratchView(ctx, start)
}

// Applies reports whether the rules apply to a response with this status:
// the 2xx and 3xx ones, as nginx's add_header without always.
func (h *HeaderRules) Applies(status int) bool { return status >= 200 && status < 400 }

// AppendHead appends head (a status line and field lines, each ending in
// CRLF) with the rules applied: the fields they drop left out, theirs
// added at the end. head must not overlap dst's spare capacity.
func (h *HeaderRules) AppendHead(dst, head []byte) []byte {
	i := bytes.Index(head, crlf)
	if i < 0 {
		return append(dst, head...)
	}
	b := append(dst, head[:i+2]...) // the status line
	for rest := head[i+2:]; len(rest) > 0; {
		n := bytes.Index(rest, crlf)
		if n < 0 { // a head always ends in CRLF; keep a stray tail as is
			b = append(b, rest...)
			break
		}
		line := rest[:n+2]
		rest = rest[n+2:]
		if !h.drops(line) {
			b = append(b, line...)
		}
	}
	return append(b, h.lines...)
}

var crlf = []byte("\r\n")

// drops reports whether the field line's name is one the rules remove.
func (h *HeaderRules) drops(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return false
	}
	name := line[:colon]
	for _, d := range h.drop {
		if httpcodec.EqualFold(name, d) {
			return true
		}
	}
	return false
}
