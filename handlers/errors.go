package handlers

import (
	"errors"
	"io/fs"

	"github.com/gale-http/gale/httpcodec"
	"golang.org/x/sys/unix"
)

// Errors the static handler maps to statuses; see StatusFromError.
var (
	// ErrOutsideRoot reports a path that resolves (through a symlink) outside
	// the document root.
	ErrOutsideRoot = errors.New("handlers: path leaves the document root")
	// ErrNotRegular reports a device, fifo, socket or other non-regular file.
	ErrNotRegular = errors.New("handlers: not a regular file")
	// ErrHidden reports a path with a segment starting with '.'.
	ErrHidden = errors.New("handlers: hidden path segment")
)

// errorStatus is the one table from error to status. Order matters: the
// first match wins. Everything not listed is a 500.
var errorStatus = []struct {
	err    error
	status int
}{
	{fs.ErrNotExist, 404},
	{fs.ErrPermission, 403},
	{ErrOutsideRoot, 404},
	{ErrNotRegular, 404},
	{ErrHidden, 404},
	{unix.EXDEV, 404},        // openat2 RESOLVE_BENEATH: escape attempt
	{unix.ELOOP, 404},        // symlink loop
	{unix.ENOTDIR, 404},      // "/file.html/x"
	{unix.ENAMETOOLONG, 404}, // cannot exist
	{unix.ENXIO, 404},        // opening a unix socket, or a device without a driver: not a file
	{unix.ENODEV, 404},       // a device special file without a device
	{unix.EACCES, 403},
	{unix.EPERM, 403},
}

// StatusFromError maps a filesystem or handler error to an HTTP status:
// not found and unreachable paths -> 404, permission denied -> 403, anything
// else -> 500.
func StatusFromError(err error) int {
	for _, e := range errorStatus {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	return 500
}

// Error builds a short text/plain error response ("404 Not Found\n") into
// ctx.Scratch. It leaves resp.Close alone: closing after bad input is the
// reactor's decision.
func Error(ctx *Ctx, resp *Response, status int) {
	errorResponse(ctx, resp, status, "", true)
}

// errorFor is Error for a known request: no body for HEAD.
func errorFor(ctx *Ctx, req *httpcodec.Request, resp *Response, status int) {
	errorResponse(ctx, resp, status, "", req.Method != httpcodec.MethodHead)
}

// errorResponse writes status with an optional extra header line (name:
// value CRLF, already formatted) and the body when withBody.
func errorResponse(ctx *Ctx, resp *Response, status int, extra string, withBody bool) {
	text := httpcodec.StatusText(status)
	bodyLen := int64(3 + 1 + len(text) + 1)
	start := len(ctx.Scratch)
	b := httpcodec.AppendStatusLine(ctx.Scratch, status)
	b = append(b, httpcodec.ServerHeader...)
	b = httpcodec.AppendHeader(b, "Content-Type", "text/plain; charset=utf-8")
	b = httpcodec.AppendContentLength(b, bodyLen)
	b = append(b, extra...)
	mid := len(b)
	if withBody {
		b = appendInt(b, int64(status))
		b = append(b, ' ')
		b = append(b, text...)
		b = append(b, '\n')
	}
	ctx.Scratch = b
	resp.Status = status
	resp.Head = b[start:mid:mid]
	if withBody {
		resp.AddBody(b[mid:len(b):len(b)])
	}
}
