package handlers

import (
	"bytes"
	"sort"

	"github.com/gale-http/gale/httpcodec"
)

// ErrorPages replaces error responses by pages (nginx error_page): the
// page's file, served as a GET of its path by Files, with the error's
// status; or, for a page that is no file, the answer of the application
// whose location App routes the page's path to, with the error's status
// too. It is built once from the configuration and read-only afterwards.
type ErrorPages struct {
	pages []errorPage // by status
	// Files serves the pages that are files: the vhost router's Internal,
	// so a page may live in any location of the vhost, an internal one
	// included. The errors the reactor answers when an application fails
	// (502, 503, 504) only get such pages: the application may be what
	// failed.
	Files Handler
	// App, when set, is the vhost's router: a page that is no file goes
	// to the application that serves its path (a GET or HEAD of the
	// page; other methods get the file page only).
	App Handler
}

type errorPage struct {
	status int
	path   []byte
}

// NewErrorPages maps statuses (400-599) to page paths ("/404.html"),
// served by files (App left unset: file pages only).
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
	if ctx.inPage {
		return // a page's own lookup: its errors are final
	}
	orig := *resp // its Body views point at resp's own array: restored with it
	head := req.Method == httpcodec.MethodHead
	switch {
	case e.serve(ctx, orig.Status, head, req.Minor, extra, resp):
	case e.App != nil && (head || req.Method == httpcodec.MethodGet) && e.fromApp(ctx, orig.Status, head, req.Minor, resp):
	default:
		*resp = orig
		return
	}
	resp.Close = orig.Close
}

// fromApp routes the page for status through the vhost's locations and
// reports whether an application will answer it (resp then carries the
// route, its status to replace); resp is reset either way.
func (e *ErrorPages) fromApp(ctx *Ctx, status int, head bool, minor uint8, resp *Response) bool {
	path := e.page(status)
	sub := e.subRequest(ctx, path, head, minor)
	resp.Reset()
	ctx.inPage = true
	e.App.Serve(ctx, sub, resp)
	ctx.inPage = false
	if resp.Upstream == nil {
		dropFile(resp)
		resp.Reset()
		return false
	}
	u := resp.Upstream
	u.ErrorStatus = status
	// The application is asked for the page, as after a rewrite: the
	// page's path, no query, REQUEST_URI still the client's (nginx).
	u.Rewritten, u.Path, u.Query, u.Target = true, path, nil, path
	resp.Status = status
	return true
}

// subRequest is the GET (or HEAD) of a page, in ctx's spare request.
func (e *ErrorPages) subRequest(ctx *Ctx, path []byte, head bool, minor uint8) *httpcodec.Request {
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
	return sub
}

// dropFile releases a response's file, if any.
func dropFile(resp *Response) {
	switch {
	case resp.FileRef != nil:
		resp.FileRef.Release()
	case resp.File != nil:
		resp.File.Close()
	}
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
	sub := e.subRequest(ctx, path, head, minor)
	resp.Reset()
	e.Files.Serve(ctx, sub, resp)
	i := bytes.Index(resp.Head, crlf)
	if resp.Status != 200 || resp.Upstream != nil || i < 0 {
		dropFile(resp)
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
