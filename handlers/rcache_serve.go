package handlers

import (
	"strconv"
	"time"

	"github.com/gale-http/gale/httpcodec"
)

// hitKind says why an entry is served, for its Cache-Status.
type hitKind uint8

const (
	hitFresh           hitKind = iota
	hitStaleRevalidate         // stale-while-revalidate: a refresh runs
	hitStaleError              // stale-if-error: the application failed
	hitRevalidated             // the application answered 304 to our conditional request
	hitCollapsed               // the request waited for another's fetch
)

// hitLog is the Cache-Status of a hit, without its ttl, for the log.
var hitLog = [...]string{
	hitFresh:           "gale; hit",
	hitStaleRevalidate: "gale; hit; detail=stale-while-revalidate",
	hitStaleError:      "gale; hit; detail=stale-if-error",
	hitRevalidated:     "gale; fwd=stale; fwd-status=304",
	hitCollapsed:       "gale; fwd=uri-miss; collapsed",
}

// Entry bytes, in order: key, Vary names (a Vary list entry has nothing
// else), the 200 head, the body, the ETag, the tags.
func (m *entryMeta) head(d []byte) []byte {
	o := m.keyN + m.varyN
	return d[o : o+m.headN : o+m.headN]
}

func (m *entryMeta) body(d []byte) []byte {
	o := m.keyN + m.varyN + m.headN
	return d[o : o+m.bodyN : o+m.bodyN]
}

func (m *entryMeta) etag(d []byte) []byte {
	o := m.keyN + m.varyN + m.headN + m.bodyN
	return d[o : o+m.etagN : o+m.etagN]
}

func (m *entryMeta) tags(d []byte) []byte {
	o := m.keyN + m.varyN + m.headN + m.bodyN + m.etagN
	return d[o : o+m.tagsN : o+m.tagsN]
}

// fields are the stored header lines: the 200 head without its status
// line and its trailing Content-Length line.
func (m *entryMeta) fields(d []byte) []byte {
	h := m.head(d)
	return h[m.statusN : len(h)-int(m.clN)]
}

// serve answers req from the entry f: the prebuilt head and the shared
// body, with only Age and Cache-Status written per hit; a 304 when the
// client's validators match, a 206 for one satisfiable range.
func (p *CachePolicy) serve(ctx *Ctx, req *httpcodec.Request, resp *Response, f *found, age int64, kind hitKind) {
	m, d := &f.m, f.data
	// The views below stay valid until the reactor has written them.
	resp.Pin, f.pinned = f.pg, false
	resp.OwnDate = true
	body := m.body(d)
	switch {
	case m.status == 200 && notModified(req, m, d):
		start := len(ctx.Scratch)
		ctx.Scratch = append(ctx.Scratch, "HTTP/1.1 304 Not Modified\r\n"...)
		ctx.Scratch = append(ctx.Scratch, m.fields(d)...)
		resp.Status, resp.Head = 304, scratchView(ctx, start)
		body = nil
	case m.status == 200 && req.Method == httpcodec.MethodGet && req.Has(httpcodec.HdrRange):
		var ok bool
		if ok, body = p.serveRange(ctx, req, resp, m, d); !ok {
			resp.Status, resp.Head, body = 200, m.head(d), m.body(d)
		}
	default:
		resp.Status, resp.Head = int(m.status), m.head(d)
		if m.gzN+m.zsN > 0 {
			if h, b, ok := m.variant(d, req.Get(httpcodec.HdrAcceptEncoding)); ok {
				resp.Head, body = h, b
			}
		}
	}
	if req.Method == httpcodec.MethodGet && len(body) > 0 {
		resp.AddBody(body)
	}
	start := len(ctx.Scratch)
	b := append(ctx.Scratch, "Age: "...)
	ageS := age / int64(time.Second)
	b = strconv.AppendInt(b, ageS, 10)
	b = append(b, "\r\nCache-Status: gale; "...)
	switch kind {
	case hitRevalidated:
		b = append(b, "fwd=stale; fwd-status=304"...)
	case hitCollapsed:
		b = append(b, "fwd=uri-miss; collapsed"...)
	default:
		b = append(b, "hit; ttl="...)
		b = strconv.AppendInt(b, m.lifetime/int64(time.Second)-ageS, 10) // as Age says
		switch kind {
		case hitStaleRevalidate:
			b = append(b, "; detail=stale-while-revalidate"...)
		case hitStaleError:
			b = append(b, "; detail=stale-if-error"...)
		}
	}
	ctx.Scratch = append(b, "\r\n"...)
	resp.HeadMore = scratchView(ctx, start)
	resp.CacheStatus = hitLog[kind] // for the access log: HeadMore has the header
}

// notModified evaluates If-None-Match, else If-Modified-Since, against
// the entry (RFC 9110 section 13.2.2; weak comparison for If-None-Match).
func notModified(req *httpcodec.Request, m *entryMeta, d []byte) bool {
	if inm := req.Get(httpcodec.HdrIfNoneMatch); inm != nil {
		et := m.etag(d)
		if len(et) > 2 && et[0] == 'W' {
			et = et[2:]
		}
		return len(et) > 0 && etagListMatch(inm, et, true)
	}
	if ims := req.Get(httpcodec.HdrIfModifiedSince); ims != nil {
		t, ok := parseIMFFixdate(ims)
		if !ok {
			t, ok = httpDate(ims) // the obsolete formats: rare, and they allocate
		}
		lm := m.lastMod
		if lm == 0 {
			lm = m.date // no Last-Modified: the response's Date (RFC 9110 section 13.1.3)
		}
		return ok && lm <= t
	}
	return false
}

// serveRange answers one satisfiable range of the stored 200 with a 206
// built in scratch (its body a view of the entry's), or 416; false leaves
// the full 200 (no range, an If-Range that does not match, several ranges).
func (p *CachePolicy) serveRange(ctx *Ctx, req *httpcodec.Request, resp *Response, m *entryMeta, d []byte) (bool, []byte) {
	if ir := req.Get(httpcodec.HdrIfRange); ir != nil {
		et := m.etag(d)
		if len(ir) == 0 || ir[0] != '"' || m.flags&fWeakETag != 0 || string(ir) != string(et) {
			return false, nil
		}
	}
	size := int64(m.bodyN)
	var rbuf [maxRanges]byteRange
	rs, kind := parseRange(req.Get(httpcodec.HdrRange), size, rbuf[:0])
	start := len(ctx.Scratch)
	switch {
	case kind == rangeUnsatisfiable:
		b := append(ctx.Scratch, "HTTP/1.1 416 Range Not Satisfiable\r\n"...)
		b = append(b, m.fields(d)...)
		b = append(b, "Content-Range: bytes */"...)
		b = strconv.AppendInt(b, size, 10)
		b = append(b, "\r\nContent-Length: 0\r\n"...)
		ctx.Scratch = b
		resp.Status, resp.Head = 416, scratchView(ctx, start)
		return true, nil
	case kind != rangeOK || len(rs) != 1:
		return false, nil
	}
	r := rs[0]
	b := append(ctx.Scratch, "HTTP/1.1 206 Partial Content\r\n"...)
	b = append(b, m.fields(d)...)
	b = appendContentRange(b, r, size)
	b = httpcodec.AppendContentLength(b, r.length)
	ctx.Scratch = b
	resp.Status, resp.Head = 206, scratchView(ctx, start)
	body := m.body(d)
	return true, body[r.start : r.start+r.length : r.start+r.length]
}

// ServeStored answers req from what the cache holds for it after a fetch
// it waited for (collapsed), revalidated (304), or that failed
// (stale-if-error when allowed); false when there is nothing to serve.
func (p *CachePolicy) ServeStored(ctx *Ctx, req *httpcodec.Request, resp *Response, now time.Time, how ServeHow) bool {
	nowNs := now.UnixNano()
	f := p.find(ctx, req, nowNs)
	defer f.unpin() // (serve takes the pin to the response)
	if !f.found {
		return false
	}
	age := f.age(nowNs)
	switch how {
	case ServeAfterWait:
		if !f.fresh(p.Cache, age) {
			return false
		}
		p.serve(ctx, req, resp, &f, age, hitCollapsed)
	case ServeRevalidated:
		p.Cache.Stats.Revalidated.Add(1)
		p.serve(ctx, req, resp, &f, age, hitRevalidated)
	case ServeStaleOnError:
		if !p.staleOnError(&f.m, age) {
			return false
		}
		p.Cache.Stats.StaleServed.Add(1)
		p.serve(ctx, req, resp, &f, age, hitStaleError)
	}
	return true
}

// ServeHow says why ServeStored is asked.
type ServeHow uint8

// Reasons for ServeStored.
const (
	ServeAfterWait ServeHow = iota + 1 // 0: not asked
	ServeRevalidated
	ServeStaleOnError
)

// staleOnError reports whether an entry of this age may stand in for a
// failed fetch (RFC 5861 section 4; never past must-revalidate).
func (p *CachePolicy) staleOnError(m *entryMeta, age int64) bool {
	return m.flags&(fMustRevalidate|fNoCache) == 0 && m.sie > 0 && age < m.lifetime+m.sie
}
