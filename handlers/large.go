package handlers

import (
	"os"

	"github.com/gale-http/gale/httpcodec"
	"golang.org/x/sys/unix"
)

// serveLarge serves a file above CacheMaxFile from its fd, which it owns:
// the reactor streams resp.File and closes it. A single range becomes a
// file range, several a multipart/byteranges body whose ranges are file
// ranges too (sent with sendfile, never read into memory). Compressed
// variants come only from sidecar files.
func (s *Static) serveLarge(ctx *Ctx, req *httpcodec.Request, resp *Response, fd int, m *fileMeta, rel string) {
	var rbuf [maxRanges]byteRange
	ranges, rkind := s.wantRanges(req, m, rbuf[:0])
	sel, size := encIdentity, m.size
	if rkind == rangeIgnore && s.cfg.Compress && m.mime.compressible {
		var order [numEnc]int
		for _, enc := range preferredEncodings(req.Get(httpcodec.HdrAcceptEncoding), &order) {
			if enc == encIdentity {
				break
			}
			if sfd, st, ok := s.openSidecar(rel, enc, m); ok {
				unix.Close(fd)
				fd, sel, size = sfd, enc, st.Size
				break
			}
		}
	}
	var eb [64]byte
	switch evalPreconditions(req, appendETag(eb[:0], m, sel), m) {
	case condNotModified:
		unix.Close(fd)
		start := len(ctx.Scratch)
		ctx.Scratch = appendEntityHead(ctx.Scratch, 304, m, sel, m.mime.ctype, 0)
		resp.Status = 304
		resp.Head = scratchView(ctx, start)
		return
	case condFailed:
		unix.Close(fd)
		errorFor(ctx, req, resp, 412)
		return
	}
	switch rkind {
	case rangeUnsatisfiable:
		unix.Close(fd)
		serveUnsatisfiable(ctx, resp, m.size, true)
	case rangeOK:
		if len(ranges) > 1 {
			serveMultiRangeFile(ctx, resp, fd, m, rel, ranges)
			return
		}
		serveSingleRange(ctx, resp, m, ranges[0])
		attachFile(resp, fd, rel, ranges[0].start, ranges[0].length)
	default:
		start := len(ctx.Scratch)
		ctx.Scratch = appendEntityHead(ctx.Scratch, 200, m, sel, m.mime.ctype, size)
		resp.Status = 200
		resp.Head = scratchView(ctx, start)
		if req.Method != httpcodec.MethodGet {
			unix.Close(fd)
			return
		}
		attachFile(resp, fd, rel, 0, size)
	}
}

// attachFile hands fd to the reactor as resp.File. The fd was opened
// non-blocking (so a fifo could not block the open); it is made blocking
// again so os.File treats it as the plain file it is.
func attachFile(resp *Response, fd int, name string, off, n int64) {
	unix.SetNonblock(fd, false) // a regular file: cannot fail in a way that matters
	resp.File = os.NewFile(uintptr(fd), name)
	resp.FileOff = off
	resp.FileLen = n
}
