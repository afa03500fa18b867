package handlers

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gale-http/gale/httpcodec"
)

// RespCache is the response cache of upstream responses (nginx's
// proxy_cache and fastcgi_cache, for every upstream protocol): one per
// process, in RAM, shared by every event loop, bounded in bytes. The
// engine tees the normalized response of a miss into a CacheFill; hits
// are answered from prebuilt heads and shared body bytes like static
// files. RFC 9111 semantics; see CachePolicy for what a location sets.
type RespCache struct {
	st        *store
	maxObject int64
	seed      maphash.Seed
	// gen is bumped by a purge of everything: entries of an older
	// generation are misses (O(1) purge; the store evicts them in time).
	gen atomic.Uint32
	// softAll: entries stored before it are stale (soft purge of all).
	softAll atomic.Int64

	mu       sync.Mutex
	inflight map[uint64]*CacheFill // fetches that will store, by primary key
	hfm      map[uint64]int64      // hit-for-miss: no collapsing until (unix ns)

	// Stats counts lookups by result and the rest, for /metrics.
	Stats CacheStats
}

// CacheStats are the response cache's counters.
type CacheStats struct {
	Hit, Miss, Stale, Updating, Revalidated, Bypass, Uncacheable, OnlyIfCached atomic.Uint64
	Collapsed, StaleServed, Stored, Purged                                     atomic.Uint64
}

// Usage reports the bytes the cache holds (its mappings: pages, slots,
// index, and evicted pages still pinned by responses being sent), its
// entries and evictions.
func (c *RespCache) Usage() (bytes int64, entries int, evictions uint64) { return c.st.usage() }

// NewRespCache makes a cache of about size bytes, storing responses of up
// to maxObject bytes (larger ones stream through uncached).
func NewRespCache(size, maxObject int64) *RespCache {
	size = max(size, 1<<20)
	maxObject = min(max(maxObject, 1), size/4)
	c := &RespCache{st: newStore(size, maxObject), maxObject: maxObject, seed: maphash.MakeSeed(),
		inflight: map[uint64]*CacheFill{}, hfm: map[uint64]int64{}}
	c.gen.Store(1)
	return c
}

// Err reports why the cache cannot store (part of) what it is given: the
// kernel refused to map its memory (a strict overcommit policy, a
// memory limit). nil when it is whole.
func (c *RespCache) Err() error { return c.st.err }

// CachePolicy is what one location caches and how: the location's
// `cache:` block. It is read-only once serving.
type CachePolicy struct {
	Cache *RespCache
	// TTL is the freshness of a 200, 301 or 404 whose head says nothing
	// of it (no max-age, s-maxage or Expires), without Set-Cookie, private
	// or a request Authorization: the micro-cache. 0: such responses are
	// not stored fresh.
	TTL time.Duration
	// StaleWhileRevalidate and StaleIfError apply when the response does
	// not set them (RFC 5861).
	StaleWhileRevalidate, StaleIfError time.Duration
	// BypassCookies are cookie name prefixes whose presence sends the
	// request to the application uncached (a logged-in user).
	BypassCookies []string
	// TagHeader names the response header listing the entry's tags for
	// purging (Surrogate-Key, Cache-Tag); it is not sent to clients.
	TagHeader string
	// LockTimeout bounds a collapsed request's wait for the fetch it
	// joined; it then goes to the application itself.
	LockTimeout time.Duration
	// HitForMiss is how long a key whose response could not be stored
	// sends its requests straight to the application, uncollapsed.
	HitForMiss time.Duration
	// CDNCacheControl: CDN-Cache-Control (RFC 9213) overrides
	// Cache-Control for the cache's decisions.
	CDNCacheControl bool
}

// WordPressBypassCookies is the bypass preset for WordPress: logged-in
// users, password-protected posts and commenters see their own pages.
var WordPressBypassCookies = []string{"wordpress_logged_in_", "wp-postpass_", "comment_author_", "wordpress_sec_"}

// CacheDecision is what the cache decided about a request.
type CacheDecision uint8

const (
	// CacheBypass: the request goes to the application; nothing is stored.
	CacheBypass CacheDecision = iota
	// CacheServed: resp holds the answer.
	CacheServed
	// CacheServedRefresh: resp holds a stale answer; the returned fill
	// refreshes the entry in the background.
	CacheServedRefresh
	// CacheFetch: the request goes to the application; the returned fill
	// stores the response, and other requests for the key wait for it.
	CacheFetch
	// CacheWait: the request waits for the fetch in flight for its key;
	// the waiter is told when it is over.
	CacheWait
	// CacheInvalidate: an unsafe method; a success invalidates the URI.
	CacheInvalidate
)

// CacheWaiter is a request collapsed onto a fetch in flight. CacheReady
// runs once, on whatever goroutine ends the fetch f: stored says the
// response was stored (look up again), false that the waiter must go to
// the application itself.
//
// CacheStream runs, on the fetching goroutine too, each time more of the
// response can be read with CacheFill.Stream (read-while-writer): a waiter
// may write it as it arrives instead of waiting for the end.
type CacheWaiter interface {
	CacheReady(f *CacheFill, stored bool)
	CacheStream(f *CacheFill)
}

// Cache-Status values (RFC 9211) of forwarded responses.
const (
	statusMiss      = "gale; fwd=uri-miss"
	statusStored    = "gale; fwd=uri-miss; stored"
	statusBypass    = "gale; fwd=bypass"
	statusHFM       = "gale; fwd=uri-miss; detail=hit-for-miss"
	statusStale     = "gale; fwd=stale"
	statusCollapsed = "gale; fwd=uri-miss; collapsed"
)

// Lookup decides how the cache answers req. w, when not nil, may be
// registered to wait for a fetch in flight (CacheWait); nil asks for no
// waiting and no new fetch (a request woken from a wait looks up again).
// A hit costs no allocation.
func (p *CachePolicy) Lookup(ctx *Ctx, req *httpcodec.Request, resp *Response, now time.Time, w CacheWaiter) (CacheDecision, *CacheFill) {
	c := p.Cache
	switch req.Method {
	case httpcodec.MethodGet, httpcodec.MethodHead:
	case httpcodec.MethodOptions, httpcodec.MethodTrace:
		resp.CacheStatus = statusBypass
		return CacheBypass, nil
	default:
		resp.CacheStatus = statusBypass
		return CacheInvalidate, nil
	}
	var rcc ccDirectives
	if req.Lookup("Cache-Control") != nil {
		rcc = newCC()
		p.requestCC(req, &rcc)
	}
	if req.HasBody() || req.Has(httpcodec.HdrUpgrade) || p.bypassCookie(req.Get(httpcodec.HdrCookie)) {
		c.Stats.Bypass.Add(1)
		resp.CacheStatus = statusBypass
		return CacheBypass, nil
	}
	nowNs := now.UnixNano()
	f := p.find(ctx, req, nowNs)
	defer f.unpin() // (serve takes the pin to the response)
	if f.found {
		age := f.age(nowNs)
		switch {
		case f.fresh(c, age):
			c.Stats.Hit.Add(1)
			p.serve(ctx, req, resp, &f, age, hitFresh)
			return CacheServed, nil
		case rcc.onlyIfCached:
		case f.m.flags&(fMustRevalidate|fNoCache) == 0 && f.m.swr > 0 && age < f.m.lifetime+f.m.swr:
			// (a soft-purged entry may be younger than its lifetime: the
			// window must be open, not merely not passed)
			c.Stats.Updating.Add(1)
			c.Stats.StaleServed.Add(1)
			p.serve(ctx, req, resp, &f, age, hitStaleRevalidate)
			if w == nil {
				return CacheServed, nil
			}
			fill := p.refreshFill(req, &f, nowNs)
			if fill == nil {
				return CacheServed, nil
			}
			return CacheServedRefresh, fill
		}
	}
	if rcc.onlyIfCached {
		c.Stats.OnlyIfCached.Add(1)
		resp.CacheStatus = "gale; detail=only-if-cached"
		errorFor(ctx, req, resp, 504)
		return CacheServed, nil
	}
	if w == nil || req.Method == httpcodec.MethodHead || rcc.noStore {
		c.Stats.Miss.Add(1)
		resp.CacheStatus = statusMiss
		return CacheBypass, nil
	}
	return p.fetch(req, &f, nowNs, w, resp)
}

// fetch registers a fetch for f's key, or w on the one in flight.
func (p *CachePolicy) fetch(req *httpcodec.Request, f *found, nowNs int64, w CacheWaiter, resp *Response) (CacheDecision, *CacheFill) {
	c := p.Cache
	c.mu.Lock()
	if until, ok := c.hfm[f.primary]; ok && until > nowNs {
		c.mu.Unlock()
		c.Stats.Uncacheable.Add(1)
		resp.CacheStatus = statusHFM
		return CacheBypass, nil
	}
	if fl := c.inflight[f.primary]; fl != nil && !fl.background {
		fl.waiters = append(fl.waiters, w)
		c.mu.Unlock()
		c.Stats.Collapsed.Add(1)
		resp.CacheStatus = statusCollapsed
		return CacheWait, fl
	}
	fl := p.newFill(req, f, nowNs)
	c.inflight[f.primary] = fl
	fl.registered = true
	c.mu.Unlock()
	if f.found {
		c.Stats.Stale.Add(1)
		resp.CacheStatus = statusStale
	} else {
		c.Stats.Miss.Add(1)
		resp.CacheStatus = statusMiss
	}
	return CacheFetch, fl
}

// refreshFill returns the fill of a background refresh of f's entry, or
// nil when one is in flight already: exactly one refresh per key.
func (p *CachePolicy) refreshFill(req *httpcodec.Request, f *found, nowNs int64) *CacheFill {
	c := p.Cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight[f.primary] != nil {
		return nil
	}
	fl := p.newFill(req, f, nowNs)
	fl.background, fl.registered = true, true
	c.inflight[f.primary] = fl
	return fl
}

// requestCC reads the request's Cache-Control (and CDN's never: it is a
// response header). Request directives other than only-if-cached and
// no-store are ignored on purpose: honouring a client's no-cache or
// max-age=0 would let any client send every request to the application
// (nginx ignores them all; RFC 9111 section 5.2.1 makes them advisory).
func (p *CachePolicy) requestCC(req *httpcodec.Request, d *ccDirectives) {
	for i := range req.Headers {
		if eqFoldStr(req.Headers[i].Name, "cache-control") {
			d.add(req.Headers[i].Value)
		}
	}
}

// bypassCookie reports whether the Cookie header names a cookie that
// starts with one of the bypass prefixes.
func (p *CachePolicy) bypassCookie(ck []byte) bool {
	if len(ck) == 0 || len(p.BypassCookies) == 0 {
		return false
	}
	for len(ck) > 0 {
		for len(ck) > 0 && (ck[0] == ' ' || ck[0] == ';') {
			ck = ck[1:]
		}
		i := 0
		for i < len(ck) && ck[i] != '=' && ck[i] != ';' {
			i++
		}
		name := ck[:i]
		for _, b := range p.BypassCookies {
			if len(name) >= len(b) && string(name[:len(b)]) == b {
				return true
			}
		}
		for i < len(ck) && ck[i] != ';' {
			i++
		}
		ck = ck[i:]
	}
	return false
}

// found is the outcome of a key lookup.
type found struct {
	primary uint64 // hash of the primary key
	hash    uint64 // hash of the entry found (the variant's under Vary)
	found   bool
	m       entryMeta
	data    []byte
	// pg is data's page, pinned by f while pinned says so (serve hands
	// the pin on to the response).
	pg     *page
	pinned bool
}

// unpin releases f's pin on the entry's page, unless it was handed on.
func (f *found) unpin() {
	if f.pinned {
		f.pg.Release()
		f.pinned = false
	}
}

// age is the entry's current age (RFC 9111 section 4.2.3), ns.
func (f *found) age(nowNs int64) int64 { return f.m.initAge + max(nowNs-f.m.storedAt, 0) }

// fresh reports whether the entry may be served without asking the
// application.
func (f *found) fresh(c *RespCache, age int64) bool {
	return age < f.m.lifetime && f.m.flags&(fNoCache|fSoftPurged) == 0 && f.m.storedAt >= c.softAll.Load()
}

// find looks req's key up, following a Vary list to the variant.
func (p *CachePolicy) find(ctx *Ctx, req *httpcodec.Request, nowNs int64) found {
	c := p.Cache
	key := appendKey(ctx.cacheKey[:0], req)
	ctx.cacheKey = key
	var f found
	f.primary = maphash.Bytes(c.seed, key)
	m, data, pin, ok := c.st.get(f.primary)
	if !ok {
		return f
	}
	if m.gen != c.gen.Load() || string(data[:m.keyN]) != string(key) {
		pin.Release()
		return f
	}
	if m.flags&fVarySpec != 0 {
		names := data[m.keyN : m.keyN+m.varyN]
		key = appendVariant(key, names, m.storedAt, req.Headers)
		pin.Release() // names are read: the list's page may go
		ctx.cacheKey = key
		h := maphash.Bytes(c.seed, key)
		if m, data, pin, ok = c.st.get(h); !ok {
			return f
		}
		if m.gen != c.gen.Load() || string(data[:m.keyN]) != string(key) {
			pin.Release()
			return f
		}
		f.hash = h
	} else {
		f.hash = f.primary
	}
	f.found, f.m, f.data, f.pg, f.pinned = true, m, data, pin, true
	return f
}

// appendKey appends the primary key of req: host (lower case) and target.
// The method is not in it: HEAD is answered from GET's entry, and only
// GET responses are stored.
func appendKey(dst []byte, req *httpcodec.Request) []byte {
	for _, c := range req.Host {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if req.Form == httpcodec.FormOrigin {
		return append(dst, req.RawTarget...)
	}
	dst = append(dst, req.Path...)
	if req.Query != nil {
		dst = append(dst, '?')
		dst = append(dst, req.Query...)
	}
	return dst
}

// appendVariant appends the secondary key (RFC 9111 section 4.1): the
// stamp of the Vary list's entry (so a new list orphans the old
// variants) and, per name in the list, the request's values joined.
func appendVariant(dst, names []byte, stamp int64, hs []httpcodec.Header) []byte {
	dst = append(dst, 0, byte(stamp), byte(stamp>>8), byte(stamp>>16), byte(stamp>>24),
		byte(stamp>>32), byte(stamp>>40), byte(stamp>>48), byte(stamp>>56))
	for len(names) > 0 {
		i := 0
		for i < len(names) && names[i] != ',' {
			i++
		}
		name := names[:i]
		names = names[min(i+1, len(names)):]
		dst = append(dst, 0)
		first := true
		for j := range hs {
			if len(hs[j].Name) == len(name) && eqFoldStr(hs[j].Name, unsafe.String(unsafe.SliceData(name), len(name))) {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendNormalized(dst, hs[j].Value)
			}
		}
	}
	return dst
}

// appendNormalized appends a field value with the whitespace around its
// list commas removed, so "a, b" and "a,b" select the same variant.
func appendNormalized(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			if (i > 0 && v[i-1] == ',') || (i+1 < len(v) && (v[i+1] == ',' || v[i+1] == ' ' || v[i+1] == '\t')) {
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// NewCacheBypass returns the cookie prefixes of a configuration list:
// "name_*" and "name_" both match cookies whose names start with name_;
// "wordpress" expands to the WordPress preset.
func NewCacheBypass(list []string) []string {
	var out []string
	for _, s := range list {
		if s == "wordpress" {
			out = append(out, WordPressBypassCookies...)
			continue
		}
		out = append(out, strings.TrimSuffix(s, "*"))
	}
	return out
}
