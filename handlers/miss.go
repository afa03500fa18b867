package handlers

import (
	"errors"

	"github.com/gale-http/gale/httpcodec"
	"golang.org/x/sys/unix"
)

// serveMiss resolves the path on disk: a file is cached (or streamed when
// large), a directory gets its index, a redirect or a listing. tries bounds
// the retries when a file changes while it is being read.
func (s *Static) serveMiss(ctx *Ctx, req *httpcodec.Request, resp *Response, tries int) {
	path := s.filePath(req.Path)
	if len(path) == 0 || path[0] != '/' {
		errorFor(ctx, req, resp, 404)
		return
	}
	wk := wellKnown(path)
	if hiddenPath(path) && !wk {
		errorFor(ctx, req, resp, StatusFromError(ErrHidden))
		return
	}
	rel := string(path[1:])
	fd, st, err := s.openStat(rel)
	if err != nil {
		errorFor(ctx, req, resp, StatusFromError(err))
		return
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Close(fd)
		if wk {
			// Files only: no index, listing or redirect shows what
			// else the hidden directory holds.
			errorFor(ctx, req, resp, StatusFromError(ErrHidden))
			return
		}
		s.serveDir(ctx, req, resp, rel, tries)
		return
	}
	s.serveFD(ctx, req, resp, fd, &st, rel, tries)
}

// openStat opens rel without blocking and stats it; anything but a
// regular file or a directory is closed and refused.
func (s *Static) openStat(rel string) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := s.res.open(rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return -1, st, err
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		unix.Close(fd)
		return -1, st, ErrNotRegular
	}
	return fd, st, nil
}

// serveFD serves an open regular file, taking ownership of fd.
func (s *Static) serveFD(ctx *Ctx, req *httpcodec.Request, resp *Response, fd int, st *unix.Stat_t, rel string, tries int) {
	m := newMeta(st, rel)
	if m.size > s.cfg.CacheMaxFile {
		s.serveLarge(ctx, req, resp, fd, &m, rel)
		return
	}
	e, err := s.fill(fd, &m, string(req.Path), rel)
	unix.Close(fd)
	if errors.Is(err, errChanged) && tries > 0 {
		s.serveMiss(ctx, req, resp, tries-1)
		return
	}
	if err != nil {
		errorFor(ctx, req, resp, StatusFromError(err))
		return
	}
	e.checked.Store(s.clock.Load())
	e.lastUse.Store(s.clock.Load())
	if e.cost <= s.cache.maxTotal {
		// Watch before publishing: an event in between then finds nothing
		// to drop, and the re-stat within a second catches it.
		if s.watch != nil {
			s.watch.track(e)
		}
		s.cache.put(e)
		if e.compressPending {
			s.compressLater(e)
		}
		s.serveEntry(ctx, req, resp, e)
		return
	}
	s.serveEntry(ctx, req, resp, e)
	e.Release() // never published: the response holds its own reference
}

// serveDir serves a directory: a redirect to the slashed path, the first
// index file found, a listing, or 403.
func (s *Static) serveDir(ctx *Ctx, req *httpcodec.Request, resp *Response, rel string, tries int) {
	if req.Path[len(req.Path)-1] != '/' {
		redirectSlash(ctx, req, resp)
		return
	}
	for _, name := range s.cfg.Index {
		fd, st, err := s.openStat(rel + name)
		if err != nil {
			if StatusFromError(err) == 404 {
				continue
			}
			errorFor(ctx, req, resp, StatusFromError(err))
			return
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			unix.Close(fd)
			continue
		}
		s.serveFD(ctx, req, resp, fd, &st, rel+name, tries)
		return
	}
	if s.cfg.DirListing {
		s.serveListing(ctx, req, resp, rel)
		return
	}
	errorFor(ctx, req, resp, 403)
}

// redirectSlash answers 301 to the path with a trailing slash, keeping the
// query.
func redirectSlash(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	start := len(ctx.Scratch)
	b := httpcodec.AppendStatusLine(ctx.Scratch, 301)
	b = append(b, httpcodec.ServerHeader...)
	b = append(b, "Location: "...)
	b = appendEscapedPath(b, req.Path)
	b = append(b, '/')
	if len(req.Query) > 0 && printable(req.Query) {
		b = append(b, '?')
		b = append(b, req.Query...)
	}
	b = append(b, "\r\n"...)
	ctx.Scratch = httpcodec.AppendContentLength(b, 0)
	resp.Status = 301
	resp.Head = scratchView(ctx, start)
}

// appendEscapedPath percent-encodes a decoded path for a header or href:
// everything but unreserved characters, sub-delims other than those that
// confuse HTML, ':', '@' and '/'.
func appendEscapedPath(dst, p []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range p {
		if pathSafe(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}

func pathSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '/', ':', '@', '!', '$', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

// printable reports whether b is visible ASCII only (safe in a header).
func printable(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
