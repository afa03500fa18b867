// Package handlers decides what a request means: routing by location, the
// static file handler with its cache, and error responses. It knows nothing
// of gnet; the reactor hands it a parsed request and writes what it returns.
package handlers

import (
	"net/netip"
	"os"
	"time"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// Response is what a handler returns to the reactor. The reactor writes, in
// order: Head, the per-loop "Date:" line, a Connection line when needed, the
// blank line, then Body views, then the file range when File is set, then
// the FileMore parts.
//
// Head and Body either point to shared immutable bytes (a cache entry), or
// were appended to the Ctx scratch buffer; the reactor keeps them untouched
// until they are written. A handler never copies a cached body per client.
// Bytes of the response cache are valid only while Pin is held: the
// reactor hands it on with the views and releases it once they are out.
type Response struct {
	// Status is the response status code, for logs and metrics.
	Status int
	// Head is the status line and header lines, each ending in CRLF, without
	// Date, Connection and the final blank line.
	Head []byte
	// Body holds the body as views; empty for HEAD, 304 and the like.
	Body [][]byte
	// File, when non-nil, is streamed after Body from FileOff for FileLen
	// bytes under the reactor's outbound watermark. The reactor closes it.
	File    *os.File
	FileOff int64
	FileLen int64
	// FileRef, when set, owns File: the reactor calls Release when done
	// instead of closing File (a cache entry's memfd, shared by responses).
	FileRef FileRef
	// FileMore continues the body after File's range, in order: each
	// part's memory bytes, then its range of the same File (a
	// multipart/byteranges response around sendfile ranges). File is
	// released after the last part. The parts and their bytes are the
	// reactor's until written: never views of Ctx.Scratch.
	FileMore []FilePart
	// Close asks the reactor to close the connection after this response.
	Close bool
	// Upstream, when non-nil, hands the request to an upstream application
	// instead: Head, Body and File are unused and the reactor answers with
	// what the application returns.
	Upstream *UpstreamRoute
	// Cache says whether the static cache answered, for metrics.
	Cache CacheResult
	// Hold, when > 0, answers nothing yet: the reactor leaves the request
	// unread for this long, then serves it again with Ctx.Paced set (a
	// rate limit pacing a burst, nginx limit_req without nodelay).
	Hold time.Duration
	// HeadMore is more header lines, written after Head (a response
	// cache hit's Age and Cache-Status, in Ctx.Scratch).
	HeadMore []byte
	// OwnDate: Head carries its own Date (a cached response keeps the
	// application's), so the reactor writes none.
	OwnDate bool
	// Pin, when set, keeps the bytes Head and Body are views of valid (a
	// response cache page, unmapped once evicted and unpinned): the
	// reactor releases it once they were written or copied.
	Pin Pin
	// CacheStatus is the response cache's Cache-Status (RFC 9211), for
	// the header when HeadMore does not carry it already (a forwarded or
	// 504 response) and for the access log; "" when uncached.
	CacheStatus string

	body [4][]byte // backing for Body
	up   UpstreamRoute
}

// FilePart is one piece of a response body after its first file range:
// Pre, bytes in memory, then Len bytes of the response's File from Off.
type FilePart struct {
	Pre      []byte
	Off, Len int64
}

// CacheResult is a static response's cache outcome.
type CacheResult uint8

const (
	// CacheNone: the response did not involve the static cache.
	CacheNone CacheResult = iota
	// CacheHit: answered from the cache.
	CacheHit
	// CacheMiss: the file was looked up on disk.
	CacheMiss
)

// UpstreamRoute says which application a request goes to and which script
// it runs. ScriptName and PathInfo are views of the request's Path or of
// configuration strings.
type UpstreamRoute struct {
	Upstream     *upstream.Upstream
	DocumentRoot string
	ScriptName   []byte
	PathInfo     []byte
	// ServerName is SERVER_NAME: the vhost's name (Router.ServerName);
	// empty, the reactor uses the Host without its port, else the
	// address the client reached.
	ServerName []byte
	// Buffering says whether the application's response may be held
	// before it goes to the client (Location.Buffering).
	Buffering Buffering
	// Internal serves X-Accel-Redirect and local Location redirects from
	// the application (static files, never a script's source: see
	// internalRedirects); nil disables them.
	Internal Handler
	// Cache, when set, is the response cache policy of the location.
	Cache *CachePolicy
	// Rewritten says an internal rewrite (Redirects.AddRewrite) replaced
	// the request's path and query with Path and Query, which the
	// application gets instead of those in the bytes the client sent;
	// Target is them as a request-target (for an HTTP backend).
	Rewritten           bool
	Path, Query, Target []byte
	// Headers are the location's response header rules, applied to the
	// application's 2xx and 3xx heads; nil: none.
	Headers *HeaderRules
	// RequestHeaders are the location's rules for the request's fields,
	// applied before the protocol encodes them; nil: none.
	RequestHeaders *RequestHeaderRules
	// Compress, when set, compresses the application's response for
	// clients that accept it (Location.Compress).
	Compress *DynCompress
	// Errors, when set, has the pages for the errors gale answers
	// instead of the application's response (502, 503, 504).
	Errors *ErrorPages
	// MaxBody, when > 0, bounds the request body (a chunked one is
	// counted as it arrives): more is 413.
	MaxBody int64
	// ErrorStatus, when not 0, makes the application's answer an error
	// page (ErrorPages): it is asked for the page's path (a rewrite:
	// Rewritten, Path, Target) instead of the request's target, and its
	// status line becomes ErrorStatus's (nginx error_page without "=").
	ErrorStatus int
}

// Buffering is how an application's response reaches the client.
type Buffering uint8

const (
	// BufferingOn holds the start of a response (up to 64 KiB, for a few
	// milliseconds) so that a small one goes out whole, with a
	// Content-Length, in one write; a response that says
	// "X-Accel-Buffering: no" or is text/event-stream streams anyway.
	BufferingOn Buffering = iota
	// BufferingOff streams every response as the application writes it
	// (nginx proxy_buffering off, fastcgi_buffering off).
	BufferingOff
)

// RouteUpstream fills the response's upstream route and returns it.
func (r *Response) RouteUpstream(u *upstream.Upstream, root string, script, pathInfo []byte) *UpstreamRoute {
	r.up = UpstreamRoute{Upstream: u, DocumentRoot: root, ScriptName: script, PathInfo: pathInfo}
	r.Upstream = &r.up
	return r.Upstream
}

// Reset clears r for reuse, keeping its backing arrays.
func (r *Response) Reset() {
	*r = Response{}
	r.Body = r.body[:0]
}

// AddBody appends a body view.
func (r *Response) AddBody(b []byte) { r.Body = append(r.Body, b) }

// BodyLen is the number of body bytes the reactor will write.
func (r *Response) BodyLen() int64 {
	n := r.FileLen
	for _, b := range r.Body {
		n += int64(len(b))
	}
	for _, p := range r.FileMore {
		n += int64(len(p.Pre)) + p.Len
	}
	return n
}

// FileRef is a reference to a shared file, released when a response that
// streams it is done.
type FileRef interface {
	Release()
}

// Ctx is the per-event-loop context handed to handlers. It is owned by one
// loop and never shared, so handlers may use it without locks.
type Ctx struct {
	// Scratch is an append-only buffer for heads and small bodies built per
	// request. The reactor truncates it only after everything pointing into
	// it has been written (or copied by the socket layer).
	Scratch []byte
	// Client is the address of the client whose request is being served
	// (the zero Addr on a unix socket). The reactor sets it for each
	// batch of a connection's requests; it is stale during an internal
	// redirect, so rules skip it there (see Location).
	Client netip.Addr

	sub *httpcodec.Request // an error page's request (ErrorPages.Serve)
	// Paced is set while the reactor serves again a request it held
	// (Response.Hold): its rate limit counted it already.
	Paced bool

	// inPage is set while an error page is looked up through the vhost's
	// locations, whose own error pages must not be tried again.
	inPage   bool
	cacheKey []byte // the response cache's key being looked up
}

// InternalHandler is a Handler that serves internal redirects
// (X-Accel-Redirect) differently from clients' requests: an internal
// location serves them, a front controller never runs a script for them.
// Router.Internal dispatches to ServeInternal where a handler has it.
type InternalHandler interface {
	Handler
	ServeInternal(ctx *Ctx, req *httpcodec.Request, resp *Response)
}

// Handler serves a request synchronously into resp.
type Handler interface {
	Serve(ctx *Ctx, req *httpcodec.Request, resp *Response)
}
