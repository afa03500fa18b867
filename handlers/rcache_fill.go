package handlers

import (
	"bytes"
	"hash/maphash"
	"time"

	"github.com/gale-http/gale/httpcodec"
)

// CacheFill is one fetch whose response the cache may store: the engine
// tees the response head (Response), the body (Body) and its end
// (Finish) into it. It is made by Lookup for a miss, a revalidation or a
// background refresh, and owned by the exchange that fetches; its
// waiters are the requests collapsed onto it, from any loop.
type CacheFill struct {
	p          *CachePolicy
	primary    uint64
	key        []byte // primary key
	reqHdrs    []httpcodec.Header
	reqAuth    bool
	reqTime    int64
	background bool
	registered bool // in the cache's inflight table (under Cache.mu)
	// The entry being revalidated, when there is one: a view of its
	// bytes, its page pinned until Finish (a 304 rebuilds the entry from
	// them), and its metadata.
	stale     bool
	staleHash uint64
	staleMeta entryMeta
	staleData []byte
	stalePin  *page

	state   fillState
	status  int
	info    respInfo
	waiters []CacheWaiter // under Cache.mu
	wbuf    []CacheWaiter // the fetching loop's copy of waiters, to notify
	stream  fillStream    // the body so far, for the waiters (rcache_stream.go)
}

// fillState is where a fill is.
type fillState uint8

const (
	fillFetching   fillState = iota // no head yet
	fillCollecting                  // storable: the body is being kept
	fillPassing                     // not stored: the response only passes through
	fillDone                        // stored or given up; waiters released
)

// CacheTee is what the engine does with a fetched response's head.
type CacheTee uint8

const (
	// TeePass: forward the response to the client; nothing is stored.
	TeePass CacheTee = iota
	// TeeStore: forward it and give its body to Body, then Finish.
	TeeStore
	// TeeServeStored: do not forward it (a 304 to the cache's own
	// conditional request, or an error a stale entry stands in for):
	// once it ended, answer the client with ServeStored (how tells which).
	TeeServeStored
)

// newFill makes the fill of a fetch for req; f is what the lookup found.
func (p *CachePolicy) newFill(req *httpcodec.Request, f *found, nowNs int64) *CacheFill {
	fl := &CacheFill{p: p, primary: f.primary, reqTime: nowNs}
	key := appendKey(nil, req)
	n := len(key)
	for _, h := range req.Headers {
		n += len(h.Name) + len(h.Value)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, key...)
	fl.key = buf[:len(key):len(key)]
	fl.reqHdrs = make([]httpcodec.Header, len(req.Headers))
	for i, h := range req.Headers {
		s := len(buf)
		buf = append(buf, h.Name...)
		m := len(buf)
		buf = append(buf, h.Value...)
		fl.reqHdrs[i] = httpcodec.Header{Name: buf[s:m:m], Value: buf[m:len(buf):len(buf)]}
		if eqFoldStr(h.Name, "authorization") {
			fl.reqAuth = true
		}
	}
	if f.found {
		f.pg.pin() // a pin of its own: f's (or the response's) is held meanwhile
		fl.stale, fl.staleHash, fl.staleMeta, fl.staleData, fl.stalePin = true, f.hash, f.m, f.data, f.pg
	}
	return fl
}

// unpinStale lets the revalidated entry's page go.
func (f *CacheFill) unpinStale() {
	if f.stalePin != nil {
		f.stalePin.Release()
		f.stalePin, f.staleData = nil, nil
	}
}

// Background reports whether the fill is a background refresh: its
// exchange has no client.
func (f *CacheFill) Background() bool { return f.background }

// Revalidating reports whether the fetch revalidates a stored entry, whose
// validators ConditionalHeaders gives.
func (f *CacheFill) Revalidating() bool { return f.stale }

// StaleOnError reports whether the entry being revalidated may stand in
// for a failed fetch now (stale-if-error).
func (f *CacheFill) StaleOnError(now time.Time) bool {
	m := &f.staleMeta
	return f.stale && f.p.staleOnError(m, m.initAge+now.UnixNano()-m.storedAt)
}

// ConditionalHeaders returns the request's fields for the fetch: the
// client's own conditionals and Range removed (the cache answers them from
// what it gets), and, when an entry is revalidated, its ETag as
// If-None-Match and its Last-Modified as If-Modified-Since (RFC 9111
// section 4.3.1).
func (f *CacheFill) ConditionalHeaders(dst []httpcodec.Header) []httpcodec.Header {
	for _, h := range f.reqHdrs {
		switch {
		case eqFoldStr(h.Name, "if-none-match"), eqFoldStr(h.Name, "if-modified-since"),
			eqFoldStr(h.Name, "if-match"), eqFoldStr(h.Name, "if-unmodified-since"),
			eqFoldStr(h.Name, "if-range"), eqFoldStr(h.Name, "range"):
			continue
		}
		dst = append(dst, h)
	}
	if !f.stale {
		return dst
	}
	m, d := &f.staleMeta, f.staleData
	if et := m.etag(d); len(et) > 0 {
		dst = append(dst, httpcodec.Header{Name: []byte("If-None-Match"), Value: et})
	}
	if m.lastMod != 0 {
		lm := time.Unix(m.lastMod, 0).UTC().Format(httpTimeFormat)
		dst = append(dst, httpcodec.Header{Name: []byte("If-Modified-Since"), Value: []byte(lm)})
	}
	return dst
}

// Response takes the fetched response's head: its status, the fields
// the engine forwards (status line first, as upstream.ResponseHead's
// AppendHead gives them) and the application's Date value (nil: none).
// The cache decides from head; client, when not nil, is the head as the
// location's header rules made it for clients, which is what a hit sends.
//
// length is the body length the response declares (-1: unknown): the
// waiters get the response as it arrives, framed by it.
func (f *CacheFill) Response(status int, head, client, date []byte, length int64, now time.Time) CacheTee {
	nowNs := now.UnixNano()
	f.status = status
	switch {
	case f.stale && status == 304:
		f.merge(head, date, nowNs)
		f.state = fillDone
		return TeeServeStored
	case f.stale && status >= 500 && !f.background && f.p.staleOnError(&f.staleMeta, f.staleMeta.initAge+nowNs-f.staleMeta.storedAt):
		f.release(false)
		return TeeServeStored
	case f.stale && status >= 500:
		// A failed refresh keeps the entry for stale-if-error.
		f.release(false)
		return TeePass
	}
	f.info = respInfo{}
	ok := f.p.analyze(&f.info, head, date, status, f.reqAuth, nowNs, f.reqTime)
	if !ok {
		f.passed(nowNs)
		return TeePass
	}
	if client != nil {
		_, rest := splitStatusLine(client)
		f.info.fields = f.p.storedFields(nil, rest, date, nowNs)
	}
	f.state = fillCollecting
	if len(f.info.vary) == 0 {
		// Under Vary a waiter may want another variant than this one:
		// it looks its own up once the fetch is over.
		f.openStream(length)
	}
	return TeeStore
}

// passed gives up storing: waiters go to the application at once, and
// the key is hit-for-miss for a while (Varnish): its next requests are
// not collapsed onto a fetch that would not be stored either.
func (f *CacheFill) passed(nowNs int64) {
	f.state = fillPassing
	if d := f.p.HitForMiss; d > 0 && f.registered {
		c := f.p.Cache
		c.mu.Lock()
		if len(c.hfm) > 65536 {
			clear(c.hfm) // bounded: a flood of uncacheable keys forgets
		}
		c.hfm[f.primary] = nowNs + int64(d)
		c.mu.Unlock()
	}
	f.release(false)
}

// Body takes body bytes of a response being stored; false once it is over
// the object limit (it is then passed through and the waiters released).
func (f *CacheFill) Body(p []byte) bool {
	if f.state != fillCollecting {
		return false
	}
	if f.stream.size+int64(len(p)) > f.p.Cache.maxObject {
		f.state = fillPassing
		f.endStream(StreamCut)
		f.release(false)
		return false
	}
	f.addChunk(p)
	return true
}

// Finish ends the fetch: complete says the whole response arrived. It
// stores a response being collected and releases the waiters; it reports
// whether the response was stored.
func (f *CacheFill) Finish(complete bool, now time.Time) bool {
	stored := false
	if f.state == fillCollecting && complete {
		f.store(now.UnixNano())
		stored = true
		f.p.Cache.Stats.Stored.Add(1)
	}
	if stored {
		f.endStream(StreamDone)
	} else {
		f.endStream(StreamCut)
	}
	if f.state != fillDone {
		f.state = fillDone
		f.release(stored)
	}
	f.unpinStale()
	return stored
}

// release takes the fill out of the inflight table and wakes its waiters.
func (f *CacheFill) release(stored bool) {
	if !f.registered {
		return
	}
	c := f.p.Cache
	c.mu.Lock()
	if c.inflight[f.primary] == f {
		delete(c.inflight, f.primary)
	}
	f.registered = false
	ws := f.waiters
	f.waiters = nil
	c.mu.Unlock()
	for _, w := range ws {
		w.CacheReady(f, stored)
	}
}

// Leave drops waiter w (it stopped waiting: lock timeout, client gone).
func (f *CacheFill) Leave(w CacheWaiter) {
	c := f.p.Cache
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			return
		}
	}
}

// store builds the entry (and the Vary list entry it needs) and puts it.
func (f *CacheFill) store(nowNs int64) {
	c := f.p.Cache
	in := &f.info
	key := f.key
	if len(in.vary) > 0 {
		stamp := nowNs
		m, d, pin, ok := c.st.get(f.primary)
		same := ok && m.flags&fVarySpec != 0 && m.gen == c.gen.Load() && string(d[:m.keyN]) == string(key) &&
			string(d[m.keyN:m.keyN+m.varyN]) == string(in.vary)
		if ok {
			pin.Release()
		}
		if same {
			stamp = m.storedAt // the same list: keep its variants
		} else {
			spec := entryMeta{gen: c.gen.Load(), flags: fVarySpec, storedAt: stamp,
				keyN: uint32(len(key)), varyN: uint32(len(in.vary))}
			c.st.put(f.primary, spec, append(append([]byte(nil), key...), in.vary...))
		}
		key = appendVariant(append([]byte(nil), key...), in.vary, stamp, f.reqHdrs)
	} else if f.stale && f.staleHash != f.primary {
		c.st.del(f.primary) // a Vary list that the new response drops
	}
	m, data := f.build(key, nowNs)
	h := maphash.Bytes(c.seed, key)
	c.st.put(h, m, data)
	if in.compressible && f.status == 200 && f.stream.size >= minCompressSize {
		c.compressLater(h, m.storedAt)
	}
}

// build lays out an entry: key, the 200 head (status line, Date, Server,
// stored fields, Content-Length), body, ETag, tags.
func (f *CacheFill) build(key []byte, nowNs int64) (entryMeta, []byte) {
	in := &f.info
	statusLine := in.statusLine
	size := f.stream.size
	var cl []byte
	if f.status != 204 && f.status != 304 {
		cl = httpcodec.AppendContentLength(nil, size)
	}
	n := len(key) + len(statusLine) + len(httpcodec.ServerHeader) + len(in.fields) + len(cl) + int(size) + len(in.etag) + len(in.tags)
	d := make([]byte, 0, n)
	d = append(d, key...)
	hs := len(d)
	d = append(d, statusLine...)
	d = append(d, httpcodec.ServerHeader...)
	d = append(d, in.fields...)
	d = append(d, cl...)
	headN := len(d) - hs
	for _, c := range f.stream.chunks { // the leader's own: no lock needed to read
		d = append(d, c...)
	}
	d = append(d, in.etag...)
	d = append(d, in.tags...)
	m := in.meta
	m.gen = f.p.Cache.gen.Load()
	m.status = uint16(f.status)
	m.keyN, m.headN, m.bodyN = uint32(len(key)), uint32(headN), uint32(size)
	m.etagN, m.tagsN = uint32(len(in.etag)), uint32(len(in.tags))
	m.statusN, m.clN = uint32(len(statusLine)), uint32(len(cl))
	return m, d
}

// merge freshens the revalidated entry with a 304's fields (RFC 9111
// section 4.3.4): each field the 304 carries replaces the stored ones of
// its name, except the framing and content fields that describe the
// stored body.
func (f *CacheFill) merge(head, date []byte, nowNs int64) {
	sm, sd := &f.staleMeta, f.staleData
	f.status = int(sm.status)
	var lines []byte
	lines = appendDateLine(lines, date, nowNs)
	_, rest := splitStatusLine(head)
	for l := range fieldLines(rest) {
		name, _ := splitField(l)
		if eqFoldStr(name, "content-length") || eqFoldStr(name, "content-encoding") ||
			eqFoldStr(name, "content-range") || eqFoldStr(name, "content-type") {
			continue
		}
		lines = append(lines, l...)
	}
	merged := []byte(nil)
	stored := sm.fields(sd)
	if len(httpcodec.ServerHeader) <= len(stored) && string(stored[:len(httpcodec.ServerHeader)]) == httpcodec.ServerHeader {
		stored = stored[len(httpcodec.ServerHeader):]
	}
	for l := range fieldLines(stored) {
		name, _ := splitField(l)
		if !hasField(lines, name) {
			merged = append(merged, l...)
		}
	}
	merged = append(merged, lines...)
	h := sm.head(sd)
	full := append(append([]byte(nil), h[:sm.statusN]...), merged...)
	f.info = respInfo{}
	if !f.p.analyze(&f.info, full, nil, f.status, false, nowNs, f.reqTime) {
		// Now uncacheable (no-store, Vary: *...): drop the entry.
		f.p.Cache.st.del(f.staleHash)
		f.release(false)
		return
	}
	f.stream.mu.Lock()
	f.stream.chunks, f.stream.size = [][]byte{sm.body(sd)}, int64(sm.bodyN)
	f.stream.mu.Unlock()
	key := sd[:sm.keyN]
	m, data := f.build(key, nowNs)
	f.stream.mu.Lock()
	f.stream.chunks, f.stream.size = nil, 0 // views of the stale page: not past its pin
	f.stream.mu.Unlock()
	f.p.Cache.st.put(f.staleHash, m, data)
	f.release(true)
}

// hasField reports whether lines has a field called name.
func hasField(lines, name []byte) bool {
	for l := range fieldLines(lines) {
		if n, _ := splitField(l); len(n) == len(name) && bytes.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// appendDateLine appends "Date: v", or the response time when the
// application sent none (RFC 9110 section 6.6.1: a recipient with a clock
// adds it).
func appendDateLine(dst, v []byte, nowNs int64) []byte {
	dst = append(dst, "Date: "...)
	if len(v) > 0 {
		dst = append(dst, v...)
	} else {
		dst = time.Unix(0, nowNs).UTC().AppendFormat(dst, httpTimeFormat)
	}
	return append(dst, "\r\n"...)
}

// respInfo is what the cache reads from a response head.
type respInfo struct {
	statusLine []byte
	fields     []byte // stored field lines: Date first, without Age and the tag header
	vary       []byte // lower-case names, comma-separated
	etag       []byte
	tags       []byte
	meta       entryMeta // freshness and flags
	// compressible: a type worth compressing, not encoded already, no
	// Vary and no no-transform (rcache_variants.go).
	compressible bool
}

// analyze reads a response head (status line then fields; date is the
// application's Date value when the fields do not carry it) and decides
// whether it may be stored (RFC 9111 section 3) and for how long (section
// 4.2), into in.
func (p *CachePolicy) analyze(in *respInfo, head, date []byte, status int, reqAuth bool, nowNs, reqTime int64) bool {
	understood, heuristic := storableStatus(status)
	if status < 200 || status > 599 || status == 206 || status == 304 {
		return false
	}
	in.statusLine, head = splitStatusLine(head)
	cc, cdn := newCC(), newCC()
	var expires, dateSec, ageVal int64 = 0, 0, 0
	hasExpires, badExpires, hasDate, setCookie, hasAge := false, false, false, false, false
	cdnInvalid, encoded := false, false
	var fields []byte
	if date != nil || !hasDateField(head) {
		fields = appendDateLine(fields, date, nowNs)
		if date != nil {
			dateSec, hasDate = httpDate(date)
		}
	}
	for l := range fieldLines(head) {
		name, v := splitField(l)
		switch {
		case eqFoldStr(name, "cache-control"):
			cc.add(v)
		case eqFoldStr(name, "cdn-cache-control"):
			if p.CDNCacheControl && !cdnInvalid {
				if validCDNCacheControl(v) {
					cdn.add(v)
				} else {
					cdnInvalid = true // RFC 9213 section 2.1: ignore the field
				}
			}
		case eqFoldStr(name, "expires"):
			if !hasExpires && !badExpires {
				t, ok := httpDate(v)
				hasExpires, badExpires, expires = ok, !ok, t
			}
		case eqFoldStr(name, "date"):
			if !hasDate {
				dateSec, hasDate = httpDate(v)
			}
		case eqFoldStr(name, "age"):
			if !hasAge {
				// The first line's first value: "Age: 7200, 0" is 7200
				// (a list is invalid; its start is the cautious reading).
				if i := bytes.IndexByte(v, ','); i >= 0 {
					v = bytes.TrimSpace(v[:i])
				}
				ageVal, hasAge = deltaSeconds(v)
			}
			continue // the cache writes its own
		case eqFoldStr(name, "set-cookie"):
			setCookie = true
		case eqFoldStr(name, "vary"):
			for e := range listElements(v) {
				if string(e) == "*" {
					return false // RFC 9111 section 4.1: never matches
				}
				if len(in.vary) > 0 {
					in.vary = append(in.vary, ',')
				}
				in.vary = append(in.vary, bytes.ToLower(e)...)
			}
		case eqFoldStr(name, "content-type"):
			in.compressible = compressibleType(v)
		case eqFoldStr(name, "content-encoding"):
			encoded = true
		case eqFoldStr(name, "etag"):
			in.etag = append(in.etag[:0], v...)
		case eqFoldStr(name, "last-modified"):
			if t, ok := httpDate(v); ok {
				in.meta.lastMod = t
			}
		case p.TagHeader != "" && len(name) == len(p.TagHeader) && bytes.EqualFold(name, []byte(p.TagHeader)):
			in.tags = append(append(in.tags, v...), ' ')
			continue // never sent to clients
		}
		fields = append(fields, l...)
	}
	in.fields = fields
	eff := &cc
	if cdn.present && !cdnInvalid {
		eff = &cdn // RFC 9213 section 2.1: it replaces Cache-Control here
	}
	switch {
	case eff.mustUnderstand && !understood:
		return false // RFC 9111 section 5.2.2.3
	case eff.noStore && !(eff.mustUnderstand && understood), eff.private, setCookie:
		return false
	case !understood && eff.sMaxAge < 0 && eff.maxAge < 0 && !hasExpires:
		return false // a status gale does not know is kept only when explicitly fresh
	}
	if reqAuth && !eff.public && eff.sMaxAge < 0 && !eff.mustRevalidate {
		return false // RFC 9111 section 3.5
	}
	respTime := nowNs
	if !hasDate {
		dateSec = respTime / int64(time.Second)
	}
	apparent := max(0, respTime-dateSec*int64(time.Second))
	corrected := ageVal*int64(time.Second) + max(respTime-reqTime, 0)
	in.meta.initAge = max(apparent, corrected)
	in.meta.date = dateSec
	in.meta.storedAt = respTime
	explicit := true
	switch {
	case eff.sMaxAge >= 0:
		in.meta.lifetime = eff.sMaxAge * int64(time.Second)
	case eff.maxAge >= 0:
		in.meta.lifetime = eff.maxAge * int64(time.Second)
	case badExpires:
		in.meta.lifetime = 0
	case hasExpires:
		in.meta.lifetime = max(expires-dateSec, 0) * int64(time.Second)
	default:
		explicit = false
	}
	if !explicit {
		switch {
		case heuristic && p.TTL > 0 && (status == 200 || status == 301 || status == 404) && !reqAuth:
			in.meta.lifetime = int64(p.TTL)
		case eff.noCache || eff.public || len(in.etag) > 0 || in.meta.lastMod != 0:
			// stored to be revalidated: a 304 then saves the body
		default:
			return false // neither fresh nor revalidatable: storing is useless
		}
	}
	in.compressible = in.compressible && !encoded && len(in.vary) == 0 && !cc.noTransform && !eff.noTransform
	if eff.noCache {
		in.meta.flags |= fNoCache
	}
	if eff.mustRevalidate || eff.proxyRevalidate || eff.sMaxAge >= 0 {
		in.meta.flags |= fMustRevalidate // s-maxage implies proxy-revalidate (section 5.2.2.10)
	}
	if len(in.etag) > 1 && in.etag[0] == 'W' {
		in.meta.flags |= fWeakETag
	}
	in.meta.swr, in.meta.sie = int64(p.StaleWhileRevalidate), int64(p.StaleIfError)
	if eff.swr >= 0 {
		in.meta.swr = eff.swr * int64(time.Second)
	}
	if eff.sie >= 0 {
		in.meta.sie = eff.sie * int64(time.Second)
	}
	return true
}

// storedFields appends the field lines of a head (without its status
// line) as an entry stores them: Date first (the parsers keep the
// application's Date out of the forwarded fields, since gale writes its
// own on a miss; a stored response keeps the application's, or gets the
// response time), without Age (generated per hit) and the tag header
// (never sent to clients).
func (p *CachePolicy) storedFields(dst, head, date []byte, nowNs int64) []byte {
	if date != nil || !hasDateField(head) {
		dst = appendDateLine(dst, date, nowNs)
	}
	for l := range fieldLines(head) {
		name, _ := splitField(l)
		if eqFoldStr(name, "age") || p.TagHeader != "" && len(name) == len(p.TagHeader) && bytes.EqualFold(name, []byte(p.TagHeader)) {
			continue
		}
		dst = append(dst, l...)
	}
	return dst
}

// hasDateField reports whether a head's fields include Date.
func hasDateField(head []byte) bool {
	for l := range fieldLines(head) {
		if n, _ := splitField(l); eqFoldStr(n, "date") {
			return true
		}
	}
	return false
}

// splitStatusLine splits the status line (with its CRLF) off a head.
func splitStatusLine(head []byte) (line, rest []byte) {
	i := bytes.Index(head, crlf)
	if i < 0 {
		return head, nil
	}
	return head[:i+2], head[i+2:]
}

// fieldLines yields each "Name: value\r\n" line of b.
func fieldLines(b []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			i := bytes.Index(b, crlf)
			if i < 0 {
				return
			}
			if !yield(b[:i+2]) {
				return
			}
			b = b[i+2:]
		}
	}
}

// splitField returns a field line's name and trimmed value.
func splitField(l []byte) (name, value []byte) {
	i := bytes.IndexByte(l, ':')
	if i < 0 {
		return nil, nil
	}
	return l[:i], bytes.TrimSpace(l[i+1:])
}

// listElements yields the non-empty elements of a comma-separated list.
func listElements(v []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for _, e := range bytes.Split(v, []byte(",")) {
			if e = bytes.TrimSpace(e); len(e) > 0 && !yield(e) {
				return
			}
		}
	}
}
