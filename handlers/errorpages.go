package handlers

import (
	"bytes"
	"sort"

	"github.com/gale-http/gale/httpcodec"
)

// ErrorPages replaces error responses by pages (nginx error_page): the
// page's file, served as a GET of its path by Files, with the error's
// status. It is built once from the configuration and read-only
// afterwards.
type ErrorPages struct {
	pages []errorPage // by status
	// Files serves the pages: the vhost router's Internal, so a page may
	// live in any location of the vhost, an internal one included. A page
	// that would go to an application is not served (the error stays
	// gale's plain one): a page must answer even when the application
	// cannot.
	Files Handler
}

type errorPage struct {
	status int
	path   []byte
}

// NewErrorPages maps statuses (400-599) to page paths ("/404.html").
func NewErrorPages(pages map[int]string, files Handler) *ErrorPages {
	e := &ErrorPages{Files: files}
	for st, p := range pages {
		e.pages = append(e.pages, errorPage{st, []byte(p)})
	}
	sort.Slice(e.pages, func(i, j int) bool { return e.pages[i].status < e.pages[j].status })
	return e
}

// page returns the page path for status, or nil.
func (e *ErrorPages) page(status int) []byte {
	for i := range e.pages {
		if e.pages[i].status == status {
			return e.pages[i].path
		}
	}
	return nil
}

// replace swaps the error in resp for its page, when it has one, with
// extra (a formatted field line, or "") added to the page's head; resp's
// Close stays as the error had it. When the page cannot be served, the
// error stays as it was.
func (e *ErrorPages) replace(ctx *Ctx, req *httpcodec.Request, resp *Response, extra string) {
	if e.page(resp.Status) == nil {
		return
	}
	orig := *resp // its Body views point at resp's own array: restored with it
	if !e.serve(ctx, resp.Status, req.Method == httpcodec.MethodHead, req.Minor, extra, resp) {
		*resp = orig
		return
	}
	resp.Close = orig.Close
}

var methodGet, methodHead = []byte("GET"), []byte("HEAD")

// Serve answers status with its page into resp, which it resets first,
// and reports whether it did: false when status has no page or the page
// cannot be served as a file (resp is then reset). The page's head keeps
// its fields, with status instead of 200.
func (e *ErrorPages) Serve(ctx *Ctx, status int, head bool, minor uint8, resp *Response) bool {
	return e.serve(ctx, status, head, minor, "", resp)
}

func (e *ErrorPages) serve(ctx *Ctx, status int, head bool, minor uint8, extra string, resp *Response) bool {
	path := e.page(status)
	if path == nil || e.Files == nil {
		return false
	}
	if ctx.sub == nil {
		ctx.sub = new(httpcodec.Request) // once per loop
	}
	sub := ctx.sub
	sub.Reset()
	sub.Method, sub.MethodName = httpcodec.MethodGet, methodGet
	if head {
		sub.Method, sub.MethodName = httpcodec.MethodHead, methodHead
	}
	sub.RawTarget, sub.Path, sub.Major, sub.Minor = path, path, 1, minor
	resp.Reset()
	e.Files.Serve(ctx, sub, resp)
	i := bytes.Index(resp.Head, crlf)
	if resp.Status != 200 || resp.Upstream != nil || i < 0 {
		if resp.File != nil && resp.FileRef == nil {
			resp.File.Close()
		} else if resp.FileRef != nil {
			resp.FileRef.Release()
		}
		resp.Reset()
		return false
	}
	// The head may be a cache entry's, shared: the new one is a copy.
	start := len(ctx.Scratch)
	b := httpcodec.AppendStatusLine(ctx.Scratch, status)
	b = append(b, resp.Head[i+2:]...)
	ctx.Scratch = append(b, extra...)
	resp.Head = scratchView(ctx, start)
	resp.Status = status
	return true
}
