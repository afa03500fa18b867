package handlers

import (
	"errors"
	"strings"

	"github.com/gale-http/gale/httpcodec"
	"golang.org/x/sys/unix"
)

// errChanged reports a file that changed size while it was being read.
var errChanged = errors.New("handlers: file changed while reading")

// serveEntry answers from a cache entry. The plain 200 and 304 paths only
// pick prebuilt heads and body views: no allocation, no copy.
func (s *Static) serveEntry(ctx *Ctx, req *httpcodec.Request, resp *Response, e *entry) {
	var rbuf [maxRanges]byteRange
	ranges, rkind := s.wantRanges(req, &e.meta, rbuf[:0])
	sel := encIdentity
	if rkind == rangeIgnore && e.meta.mime.compressible {
		var order [numEnc]int
		for _, enc := range preferredEncodings(req.Get(httpcodec.HdrAcceptEncoding), &order) {
			if e.reps[enc].ok {
				sel = enc
				break
			}
		}
	}
	r := &e.reps[sel]
	switch evalPreconditions(req, r.etag, &e.meta) {
	case condNotModified:
		resp.Status = 304
		resp.Head = r.head304
		return
	case condFailed:
		errorFor(ctx, req, resp, 412)
		return
	}
	switch rkind {
	case rangeUnsatisfiable:
		serveUnsatisfiable(ctx, resp, e.meta.size, true)
	case rangeOK:
		if len(ranges) == 1 {
			serveSingleRange(ctx, resp, &e.meta, ranges[0])
			rg := ranges[0]
			if !e.fileBody(resp, sel, rg.start, rg.length) {
				resp.AddBody(r.body[rg.start : rg.start+rg.length : rg.start+rg.length])
			}
			return
		}
		serveMultiRange(ctx, resp, &e.meta, r.body, ranges, e.boundary, true)
	default:
		resp.Status = 200
		resp.Head = r.head
		if req.Method == httpcodec.MethodGet && len(r.body) > 0 && !e.fileBody(resp, sel, 0, int64(len(r.body))) {
			resp.AddBody(r.body)
		}
	}
}

// wantRanges parses Range for a GET whose If-Range (if any) matches.
// Ranges apply to the identity representation only.
func (s *Static) wantRanges(req *httpcodec.Request, m *fileMeta, dst []byteRange) ([]byteRange, int) {
	h := req.Get(httpcodec.HdrRange)
	if h == nil || req.Method != httpcodec.MethodGet || !ifRangeAllows(req, m) {
		return dst, rangeIgnore
	}
	return parseRange(h, m.size, dst)
}

// fill reads an open regular file into a new entry with its prebuilt
// heads. Fresh sidecars are read now; codings without a sidecar are left
// for the background compressor (see compressor), so a miss never spends
// tens of milliseconds compressing on an event loop.
func (s *Static) fill(fd int, m *fileMeta, key, rel string) (*entry, error) {
	body, err := preadAll(fd, m.size)
	if err != nil {
		return nil, err
	}
	abs := s.res.abs(rel)
	e := &entry{key: key, rel: rel, meta: *m}
	e.boundary = "gale-" + strings.Trim(m.etag, `"`)
	e.paths = []string{abs}
	if real := realPath(fd); real != "" && real != abs {
		e.paths = append(e.paths, real)
	}
	e.setRep(encIdentity, body)
	if s.cfg.Compress && m.mime.compressible && m.size >= minCompressSize {
		for _, enc := range [...]int{encGzip, encZstd} {
			e.paths = append(e.paths, abs+encSidecarExt[enc])
			if comp := s.readSidecar(rel, enc, m); comp != nil {
				if worthIt(len(body), len(comp)) {
					e.setRep(enc, comp)
				}
			} else {
				e.compressPending = true
			}
		}
	}
	e.setCost()
	e.attachFiles()
	return e, nil
}

// withVariants returns a copy of e with the missing compressed variants
// built, for the background compressor to publish in e's place.
func (e *entry) withVariants() *entry {
	ne := &entry{key: e.key, rel: e.rel, meta: e.meta, reps: e.reps, boundary: e.boundary, paths: e.paths}
	body := e.reps[encIdentity].body
	for _, enc := range [...]int{encGzip, encZstd} {
		if ne.reps[enc].ok {
			continue
		}
		if comp := compressBody(enc, body); worthIt(len(body), len(comp)) {
			ne.setRep(enc, comp)
		}
	}
	ne.setCost()
	ne.attachFiles()
	ne.lastUse.Store(e.lastUse.Load())
	ne.checked.Store(e.checked.Load())
	return ne
}

// setCost charges the entry's bytes to the cache budget.
func (e *entry) setCost() {
	e.cost = 512 // the entry itself, its paths, the map slot
	for _, r := range e.reps {
		e.cost += int64(len(r.body) + len(r.head) + len(r.head304))
	}
}

func compressBody(enc int, body []byte) []byte {
	if enc == encGzip {
		return compressGzip(body)
	}
	return compressZstd(body)
}

// setRep builds the heads of one representation.
func (e *entry) setRep(enc int, body []byte) {
	m := &e.meta
	e.reps[enc] = rep{
		ok:      true,
		body:    body,
		head:    appendEntityHead(nil, 200, m, enc, m.mime.ctype, int64(len(body))),
		head304: appendEntityHead(nil, 304, m, enc, m.mime.ctype, 0),
		etag:    appendETag(nil, m, enc),
	}
}

// readSidecar returns the content of rel.gz / rel.zst when it is a regular
// file, not older than the original, and small enough to cache.
func (s *Static) readSidecar(rel string, enc int, m *fileMeta) []byte {
	fd, st, ok := s.openSidecar(rel, enc, m)
	if !ok {
		return nil
	}
	defer unix.Close(fd)
	if st.Size > s.cfg.CacheMaxFile {
		return nil
	}
	b, err := preadAll(fd, st.Size)
	if err != nil {
		return nil
	}
	return b
}

// openSidecar opens a precompressed sibling of rel if it is usable.
func (s *Static) openSidecar(rel string, enc int, m *fileMeta) (int, unix.Stat_t, bool) {
	var st unix.Stat_t
	fd, err := s.res.open(rel+encSidecarExt[enc], unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return -1, st, false
	}
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mtim.Nano() < m.mtimeNs {
		unix.Close(fd)
		return -1, st, false
	}
	return fd, st, true
}

// preadAll reads exactly size bytes from the start of fd.
func preadAll(fd int, size int64) ([]byte, error) {
	b := make([]byte, size)
	for off := int64(0); off < size; {
		n, err := unix.Pread(fd, b[off:], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errChanged
		}
		off += int64(n)
	}
	// One more byte means the file grew after the stat.
	var probe [1]byte
	if n, _ := unix.Pread(fd, probe[:], size); n > 0 {
		return nil, errChanged
	}
	return b, nil
}
