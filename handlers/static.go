package handlers

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gale-http/gale/httpcodec"
	"golang.org/x/sys/unix"
)

// StaticConfig configures a Static handler. Start from DefaultStaticConfig:
// the zero value of Compress is false.
type StaticConfig struct {
	// Root is the document root; request paths map below it unchanged
	// (nginx "root" semantics: /img/a.png -> Root/img/a.png).
	Root string
	// CacheMaxFile is the largest file kept in memory (0: 1 MiB). Larger
	// files are opened per request and streamed from the fd.
	CacheMaxFile int64
	// CacheMaxTotal bounds the cache, compressed variants included (0: 256 MiB).
	CacheMaxTotal int64
	// DirListing serves an HTML listing for a directory without an index.
	DirListing bool
	// FollowSymlinksOutside allows symlinks whose target leaves Root.
	FollowSymlinksOutside bool
	// Compress serves gzip and zstd variants of compressible types.
	Compress bool
	// Index lists the names tried for a directory (nil: "index.html").
	Index []string
	// Mount, when set, is the URL prefix (ending in "/") that maps to Root
	// (nginx alias): with Mount "/static/", /static/a.css is Root/a.css.
	// A path outside Mount is 404. Redirects and listings keep the
	// request's own path.
	Mount string
}

// DefaultStaticConfig returns the defaults for serving root.
func DefaultStaticConfig(root string) StaticConfig {
	return StaticConfig{
		Root:          root,
		CacheMaxFile:  1 << 20,
		CacheMaxTotal: 256 << 20,
		Compress:      true,
		Index:         []string{"index.html"},
	}
}

// Timing of the fallback revalidation. The clock ticks every clockTick; an
// entry is re-stat'ed when its last check is revalidateTicks old, so it is
// never served stale for more than revalidateTicks+clockTick < 1 s.
const (
	clockTick       = 50 * time.Millisecond
	revalidateTicks = 900 / 50
)

// Static serves files below a root from an in-memory cache shared by all
// event loops. It is safe for concurrent use.
type Static struct {
	cfg   StaticConfig
	res   *resolver
	cache *cache
	watch *watcher // nil without inotify

	mount     []byte       // cfg.Mount
	clock     atomic.Int64 // ticks of clockTick since NewStatic
	compressQ chan *entry
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewStatic opens the root and starts the invalidation watcher and clock.
func NewStatic(cfg StaticConfig) (*Static, error) {
	if cfg.CacheMaxFile == 0 {
		cfg.CacheMaxFile = 1 << 20
	}
	if cfg.CacheMaxTotal == 0 {
		cfg.CacheMaxTotal = 256 << 20
	}
	if cfg.Index == nil {
		cfg.Index = []string{"index.html"}
	}
	for _, name := range cfg.Index {
		if name == "" || strings.ContainsRune(name, '/') || name[0] == '.' {
			return nil, errors.New("handlers: bad index name " + name)
		}
	}
	if m := cfg.Mount; m != "" && (m[0] != '/' || m[len(m)-1] != '/') {
		return nil, errors.New("handlers: mount " + m + " must start and end with /")
	}
	res, err := newResolver(cfg.Root, cfg.FollowSymlinksOutside)
	if err != nil {
		return nil, err
	}
	s := &Static{cfg: cfg, res: res, cache: newCache(cfg.CacheMaxTotal), stop: make(chan struct{}),
		compressQ: make(chan *entry, compressQueueLen), mount: []byte(cfg.Mount)}
	s.clock.Store(1)
	if s.watch = newWatcher(s.cache); s.watch != nil {
		s.cache.onDrop = s.watch.forget
	}
	s.wg.Add(2)
	go s.tick()
	go s.compressor()
	return s, nil
}

// Close stops the watcher, the clock and the compressor and releases the root.
func (s *Static) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.cache.clear() // releases the memfds of large entries
		if s.watch != nil {
			err = s.watch.close()
		}
		if e := s.res.close(); err == nil {
			err = e
		}
	})
	return err
}

// tick advances the coarse clock that stamps entries: one atomic load on
// the hit path instead of a clock read.
func (s *Static) tick() {
	defer s.wg.Done()
	t := time.NewTicker(clockTick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.clock.Add(1)
		}
	}
}

// Serve implements Handler.
func (s *Static) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	switch req.Method {
	case httpcodec.MethodGet, httpcodec.MethodHead:
	case httpcodec.MethodOptions:
		serveOptions(ctx, resp)
		return
	default:
		errorResponse(ctx, resp, 405, "Allow: GET, HEAD\r\n", true)
		return
	}
	if e := s.cache.get(req.Path); e != nil && s.fresh(e) {
		s.serveEntry(ctx, req, resp, e)
		resp.Cache = CacheHit
		return
	}
	s.serveMiss(ctx, req, resp, 2)
	resp.Cache = CacheMiss
}

// filePath is the path below the root that a request path names: the
// path itself, or with Mount replaced by "/"; nil when it is outside
// Mount. Cache entries stay keyed by the request path: it is what a hit
// looks up, and it names one file as surely.
func (s *Static) filePath(path []byte) []byte {
	if len(s.mount) == 0 {
		return path
	}
	if len(path) < len(s.mount) || string(path[:len(s.mount)]) != string(s.mount) {
		return nil
	}
	return path[len(s.mount)-1:]
}

// CacheBytes is the memory the cache holds (bodies and their compressed
// variants), for metrics.
func (s *Static) CacheBytes() int64 { return s.cache.total.Load() }

// serveOptions answers OPTIONS with the allowed methods.
func serveOptions(ctx *Ctx, resp *Response) {
	start := len(ctx.Scratch)
	b := httpcodec.AppendStatusLine(ctx.Scratch, 200)
	b = append(b, httpcodec.ServerHeader...)
	b = append(b, "Allow: GET, HEAD, OPTIONS\r\n"...)
	ctx.Scratch = httpcodec.AppendContentLength(b, 0)
	resp.Status = 200
	resp.Head = scratchView(ctx, start)
}

// fresh stamps e as used and, at most once per second per entry, checks
// that its path still names the same file (resolving symlinks again).
// Only the loop that wins the CAS pays for the stat.
func (s *Static) fresh(e *entry) bool {
	now := s.clock.Load()
	if e.lastUse.Load() != now {
		e.lastUse.Store(now)
	}
	last := e.checked.Load()
	if now-last < revalidateTicks || !e.checked.CompareAndSwap(last, now) {
		return true
	}
	st, err := s.res.stat(e.rel)
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && e.meta.sameFile(&st) {
		return true
	}
	s.cache.remove(e)
	return false
}
