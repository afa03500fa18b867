package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgiexec"
	"github.com/gale-http/gale/upstream/httpproxy"
	"github.com/gale-http/gale/upstream/scgi"
	"github.com/gale-http/gale/upstream/uwsgi"
)

// generation is what one configuration built: the handler tree and the
// upstreams, spawned backends and static handlers it uses. A reload builds
// the next generation from the previous one, reusing every part whose
// configuration did not change (its pools, processes and cache stay
// warm), and retires the rest.
type generation struct {
	log       *slog.Logger
	cfg       *config.Config
	handler   handlers.Handler
	upstreams map[string]*liveUpstream    // by name
	statics   map[string]*handlers.Static // by fingerprint of their config
	// respCache is the response cache of the locations with a cache
	// block (nil: none); a reload keeps it, warm, when its size is the
	// same.
	respCache   *handlers.RespCache
	respCacheFP string
}

// liveUpstream is a running upstream and, when gale spawns its backends,
// their processes.
type liveUpstream struct {
	fp      string // fingerprint of its configuration
	spawnFP string
	u       *upstream.Upstream
	spawn   *spawnGroup
	wsgi    *wsgiPool // the workers of a wsgi upstream, its own
}

// fingerprint is a canonical encoding of a configuration part (maps
// sorted), equal exactly when the parts are.
func fingerprint(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data: cannot happen
	}
	return string(b)
}

// build makes the generation for cfg (validated) with loops event loops,
// reusing what prev (nil at startup) has unchanged. On error nothing new
// is left running.
func build(log *slog.Logger, cfg *config.Config, loops int, prev *generation) (g *generation, err error) {
	g = &generation{log: log, cfg: cfg, upstreams: map[string]*liveUpstream{}, statics: map[string]*handlers.Static{}}
	if prev == nil {
		prev = &generation{}
	}
	defer func() {
		if err != nil {
			g.discardNew(prev)
		}
	}()
	var started []*spawnGroup
	var pools []*liveUpstream
	for _, name := range sortedKeys(cfg.Upstreams) {
		lu, fresh, err := buildUpstream(log, name, cfg.Upstreams[name], loops, prev)
		if err != nil {
			return g, fmt.Errorf("upstream %s: %w", name, err)
		}
		g.upstreams[name] = lu
		if fresh && lu.spawn != nil {
			started = append(started, lu.spawn)
		}
		if fresh && lu.wsgi != nil {
			pools = append(pools, lu)
		}
	}
	for _, lu := range pools {
		// A reload whose application does not import keeps the
		// previous generation (its workers) serving.
		if err := lu.wsgi.waitReady(wsgiStartTimeout); err != nil {
			return g, fmt.Errorf("upstream %s: %w", lu.u.Name, err)
		}
	}
	vhosts := &handlers.VHosts{}
	var only handlers.Handler
	for i, vh := range cfg.VHosts {
		rt, err := g.buildVHost(cfg, vh, prev)
		if err != nil {
			return g, fmt.Errorf("vhosts[%d]: %w", i, err)
		}
		if err := vhosts.Add(rt, vh.Names...); err != nil {
			return g, fmt.Errorf("vhosts[%d]: %w", i, err)
		}
		if i == cfg.DefaultVHost() {
			vhosts.SetDefault(rt)
		}
		only = rt
	}
	g.handler = vhosts
	if len(cfg.VHosts) == 1 {
		// One vhost answers every Host: skip the lookup.
		g.handler = only
	}
	// New backends get a moment to listen before the first request.
	for _, sg := range started {
		sg.waitListening(log, 5*time.Second)
	}
	return g, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// buildUpstream returns prev's upstream of that name when its
// configuration is unchanged, else a new one (reusing prev's processes
// when only the spawn section is unchanged). fresh reports new processes.
func buildUpstream(log *slog.Logger, name string, c *config.Upstream, loops int, prev *generation) (lu *liveUpstream, fresh bool, err error) {
	fp := fingerprint(c)
	if old := prev.upstreams[name]; old != nil && old.fp == fp {
		return old, false, nil
	}
	lu = &liveUpstream{fp: fp}
	addrs := append([]string(nil), c.Backends...)
	if c.WSGI != nil {
		if lu.wsgi, err = newWSGIPool(log, name, c.WSGI); err != nil {
			return nil, false, err
		}
		addrs = lu.wsgi.backends()
		fresh = true
	}
	if c.Spawn != nil {
		lu.spawnFP = fingerprint(c.Spawn)
		for _, old := range prev.upstreams {
			if old.spawn != nil && old.spawnFP == lu.spawnFP {
				lu.spawn = old.spawn
				break
			}
		}
		if lu.spawn == nil {
			if lu.spawn, err = startSpawn(log, name, c.Spawn); err != nil {
				return nil, false, err
			}
			fresh = true
		}
		addrs = append(addrs, lu.spawn.backends()...)
	}
	backends, err := upstream.ParseAddrs(strings.Join(addrs, ","))
	if err != nil {
		if lu.spawn != nil && fresh {
			lu.spawn.Stop()
		}
		if lu.wsgi != nil {
			lu.wsgi.Stop()
		}
		return nil, false, err
	}
	u := &upstream.Upstream{
		Name:           name,
		Backends:       backends,
		MaxConns:       c.MaxConns,
		MaxMux:         c.MaxMux,
		Pipeline:       c.Pipeline,
		ConnectTimeout: c.Timeouts.Connect.D(),
		ReadTimeout:    c.Timeouts.Read.D(),
		QueueTimeout:   c.Timeouts.Queue.D(),
		IdleTimeout:    c.Timeouts.Idle.D(),
		MaxFails:       c.MaxFails,
		FailTimeout:    c.FailTimeout.D(),
	}
	switch c.Protocol {
	case "scgi":
		u.Protocol = scgi.Protocol
	case "uwsgi":
		u.Protocol = uwsgi.Protocol
	case "http":
		u.Protocol = httpproxy.Protocol
	}
	if c.Balance == "least_conn" {
		u.Balance = upstream.LeastConn
	}
	for _, k := range sortedKeys(c.Params) {
		u.Params = append(u.Params, [2]string{k, c.Params[k]})
	}
	if lu.wsgi != nil {
		// One connection per worker: gale's FIFO queue holds what no
		// worker is free for, but for the upstream's pipeline (GETs
		// waiting in a busy worker's socket, as for php-fpm): a worker
		// that finds its next request there does not sleep, and a
		// sleep and a wakeup cost a Python worker more than a Flask
		// hello's own work.
		u.MaxConns = 1
	}
	if u.Pipeline == 0 {
		u.Pipeline = 2
		if lu.wsgi != nil {
			u.Pipeline = wsgiPipeline
		}
	}
	u.Init(loops)
	lu.u = u
	if lu.wsgi != nil {
		lu.wsgi.start(u)
	}
	return lu, fresh, nil
}

// buildVHost makes a vhost's handler: its redirects and rewrites, if any,
// in front of the router of its locations.
func (g *generation) buildVHost(cfg *config.Config, vh *config.VHost, prev *generation) (handlers.Handler, error) {
	rt, err := g.buildRouter(cfg, vh, prev)
	if err != nil {
		return nil, err
	}
	if len(vh.Redirects) == 0 && len(vh.Rewrites) == 0 {
		return rt, nil
	}
	rd := &handlers.Redirects{Next: rt}
	if len(vh.Names) > 0 {
		rd.SetFallbackHost(strings.TrimPrefix(vh.Names[0], "*."))
	} else {
		rd.SetFallbackHost("localhost")
	}
	for i, r := range vh.Redirects {
		if err := rd.Add(r.Match, r.To, r.Status); err != nil {
			return nil, fmt.Errorf("redirects[%d]: %w", i, err)
		}
	}
	for i, r := range vh.Rewrites {
		if err := rd.AddRewrite(r.Match, r.To); err != nil {
			return nil, fmt.Errorf("rewrites[%d]: %w", i, err)
		}
	}
	return rd, nil
}

// buildRouter makes a vhost's router from its locations.
func (g *generation) buildRouter(cfg *config.Config, vh *config.VHost, prev *generation) (*handlers.Router, error) {
	rt := &handlers.Router{}
	if len(vh.Names) > 0 && !strings.HasPrefix(vh.Names[0], "*.") {
		rt.ServerName = []byte(vh.Names[0])
	}
	if len(vh.Locations) == 0 {
		s, err := g.static(cfg, vh, staticRoot{dir: vh.Root, followOutside: vh.FollowSymlinksOutside}, prev)
		if err != nil {
			return nil, err
		}
		rt.Handle("/", s)
		return rt, nil
	}
	for i, loc := range vh.Locations {
		h, err := g.location(cfg, vh, loc, rt, prev)
		if err != nil {
			return nil, fmt.Errorf("locations[%d]: %w", i, err)
		}
		if loc.Prefix != "" {
			rt.Handle(loc.Prefix, h)
		}
		for _, ext := range loc.Ext {
			rt.HandleExt(ext, h)
		}
	}
	return rt, nil
}

// location makes the handler of one location: what serves it, wrapped in
// its rules when it has any. rt is the vhost's router, which serves the
// internal redirects of its front controllers.
func (g *generation) location(cfg *config.Config, vh *config.VHost, loc *config.Location, rt *handlers.Router, prev *generation) (handlers.Handler, error) {
	h, err := g.serving(cfg, vh, loc, rt, prev)
	if err != nil {
		return nil, err
	}
	if loc.Cache != nil && h != nil {
		h = &handlers.Cached{Handler: h, Policy: g.cachePolicy(cfg, loc.Cache, prev)}
	}
	l, err := withRules(loc, h)
	if err != nil {
		return nil, err
	}
	return withGuards(cfg, vh, loc, rt, l)
}

// serving makes what serves a location's requests; nil for a location that
// denies all and has nothing to serve.
func (g *generation) serving(cfg *config.Config, vh *config.VHost, loc *config.Location, rt *handlers.Router, prev *generation) (handlers.Handler, error) {
	sr := staticRoot{dir: loc.EffectiveRoot(vh), followOutside: loc.EffectiveFollowSymlinksOutside(vh)}
	if loc.CGI != nil {
		return g.cgi(cfg, vh, loc, sr, rt, prev)
	}
	if pc := loc.Proxy; pc != nil {
		var s *handlers.Static
		if pc.Files {
			var err error
			if s, err = g.static(cfg, vh, sr, prev); err != nil {
				return nil, err
			}
		}
		px := handlers.NewProxy(g.upstreams[pc.Upstream].u, s)
		px.Internal = rt.Internal()
		return px, nil
	}
	f := loc.FastCGI
	if f == nil {
		if sr.dir == "" && loc.DeniesAll() {
			return nil, nil
		}
		if loc.Alias != "" {
			sr.mount = loc.Prefix
		}
		return g.static(cfg, vh, sr, prev)
	}
	u := g.upstreams[f.Upstream].u
	if f.Mode == "pass" {
		mount := loc.Prefix
		if f.Mount != "" {
			mount = f.Mount
		}
		return newAppHandler(u, sr.dir, mount, rt.Internal()), nil
	}
	s, err := g.static(cfg, vh, sr, prev)
	if err != nil {
		return nil, err
	}
	fc := handlers.NewFrontController(s, u, sr.dir)
	fc.Ext = f.Ext
	fc.SetIndex(f.Index)
	var refuse []string
	if f.RefuseDefaults {
		refuse = append(refuse, handlers.DefaultRefuse...)
	}
	if fc.Refuse, err = handlers.NewRefuseList(append(refuse, f.Refuse...)); err != nil {
		return nil, err
	}
	fc.Internal = rt.Internal()
	return fc, nil
}

// cgi makes a CGI location's handler and its upstream: a cgiexec.Runner
// whose budget and FIFO queue are the cap on scripts. Locations with the
// same settings share one (and its cap); a reload keeps it when they are
// unchanged.
func (g *generation) cgi(cfg *config.Config, vh *config.VHost, loc *config.Location, sr staticRoot, rt *handlers.Router, prev *generation) (handlers.Handler, error) {
	c := loc.CGI
	key := "cgi " + fingerprint(struct {
		Root string
		CGI  *config.CGI
	}{sr.dir, c})
	lu := g.upstreams[key]
	if lu == nil {
		lu = prev.upstreams[key]
	}
	if lu == nil {
		u := &upstream.Upstream{
			Name:         "cgi",
			Protocol:     cgiexec.New(c.MaxScripts, c.Assign, g.log),
			Backends:     []*upstream.Backend{{Network: "cgi", Address: sr.dir}},
			MaxConns:     c.MaxScripts,
			ReadTimeout:  c.Timeout.D(),
			QueueTimeout: c.Queue.D(),
		}
		for _, k := range sortedKeys(c.Env) {
			u.Params = append(u.Params, [2]string{k, c.Env[k]})
		}
		u.Init(1)
		lu = &liveUpstream{fp: key, u: u}
	}
	g.upstreams[key] = lu
	s, err := g.static(cfg, vh, sr, prev)
	if err != nil {
		return nil, err
	}
	return &handlers.CGI{Static: s, Upstream: lu.u, Root: sr.dir, Exts: loc.Ext, Internal: rt.Internal()}, nil
}

// withRules wraps h in the location's rules, or returns it as it is when
// the location has none (a location without rules costs nothing).
func withRules(loc *config.Location, h handlers.Handler) (handlers.Handler, error) {
	l := &handlers.Location{Handler: h, Internal: loc.Internal, DenyAll: loc.DeniesAll()}
	if loc.Buffering == "off" {
		l.Buffering = handlers.BufferingOff
	}
	for _, list := range []struct {
		in  []string
		out *[]netip.Prefix
	}{{loc.Deny, &l.Deny}, {loc.Allow, &l.Allow}} {
		for _, a := range list.in {
			if a == "all" {
				continue
			}
			p, err := config.ParsePrefix(a)
			if err != nil {
				return nil, err
			}
			*list.out = append(*list.out, p)
		}
	}
	maxAge := int64(-1)
	if loc.Expires != "" {
		var err error
		if maxAge, err = config.ParseAge(loc.Expires); err != nil {
			return nil, err
		}
	}
	if hd := loc.Headers; hd != nil || maxAge >= 0 {
		var set, add [][2]string
		var remove []string
		if hd != nil {
			set, add, remove = pairs(hd.Set), pairs(hd.Add), hd.Remove
		}
		l.Headers = handlers.NewHeaderRules(set, add, remove, maxAge)
	}
	if rh := loc.RequestHeaders; rh != nil {
		l.RequestHeaders = handlers.NewRequestHeaderRules(pairs(rh.Set), rh.Remove)
	}
	if !l.Internal && !l.DenyAll && len(l.Deny) == 0 && len(l.Allow) == 0 && l.Headers == nil && l.RequestHeaders == nil && l.Buffering == handlers.BufferingOn {
		return h, nil
	}
	return l, nil
}

// pairs lists a map's entries sorted by key, so headers come out in the
// same order at every start.
func pairs(m map[string]string) [][2]string {
	var out [][2]string
	for _, k := range sortedKeys(m) {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

// staticRoot is where a static handler's files come from.
type staticRoot struct {
	dir           string
	followOutside bool   // symlinks may leave dir
	mount         string // the alias's prefix, "" for a root
}

// static returns the static handler for a root with the vhost's settings,
// shared by the locations that have the same, and reused from prev.
func (g *generation) static(cfg *config.Config, vh *config.VHost, sr staticRoot, prev *generation) (*handlers.Static, error) {
	sc := handlers.DefaultStaticConfig(sr.dir)
	sc.FollowSymlinksOutside = sr.followOutside
	sc.Mount = sr.mount
	sc.CacheMaxFile = int64(cfg.Cache.MaxFile)
	sc.CacheMaxTotal = int64(cfg.Cache.MaxTotal)
	sc.Compress = cfg.Compression == nil || *cfg.Compression
	sc.DirListing = vh.DirListing
	if len(vh.Index) > 0 {
		sc.Index = vh.Index
	}
	fp := fingerprint(sc)
	if s := g.statics[fp]; s != nil {
		return s, nil
	}
	if s := prev.statics[fp]; s != nil {
		g.statics[fp] = s
		return s, nil
	}
	s, err := handlers.NewStatic(sc)
	if err != nil {
		return nil, err
	}
	g.statics[fp] = s
	return s, nil
}

// discardNew closes what a failed build started that prev does not own.
func (g *generation) discardNew(prev *generation) {
	ups, statics := g.notIn(prev)
	for _, s := range statics {
		s.Close()
	}
	for _, lu := range ups {
		if lu.spawn != nil && !prev.usesSpawn(lu.spawn) {
			lu.spawn.Stop()
		}
		if lu.wsgi != nil && prev.upstreams[lu.u.Name] != lu {
			lu.wsgi.Stop()
		}
	}
}

// notIn lists g's upstreams and static handlers that next does not use.
func (g *generation) notIn(next *generation) (ups []*liveUpstream, statics []*handlers.Static) {
	for _, name := range sortedKeys(g.upstreams) {
		lu := g.upstreams[name]
		if next.upstreams[name] != lu {
			ups = append(ups, lu)
		}
	}
	kept := map[*handlers.Static]bool{}
	for _, s := range next.statics {
		kept[s] = true
	}
	for _, fp := range sortedKeys(g.statics) {
		if s := g.statics[fp]; !kept[s] {
			statics = append(statics, s)
		}
	}
	return ups, statics
}

// usesSpawn reports whether one of g's upstreams runs on sg's processes.
func (g *generation) usesSpawn(sg *spawnGroup) bool {
	for _, lu := range g.upstreams {
		if lu.spawn == sg {
			return true
		}
	}
	return false
}

// close stops everything g runs (at exit, after the server stopped).
func (g *generation) close() {
	for _, s := range g.statics {
		s.Close()
	}
	stopped := map[*spawnGroup]bool{}
	for _, lu := range g.upstreams {
		if lu.spawn != nil && !stopped[lu.spawn] {
			stopped[lu.spawn] = true
			lu.spawn.Stop()
		}
		if lu.wsgi != nil {
			lu.wsgi.Stop()
		}
	}
}

// setServer gives g's wsgi pools the server that queues their requests.
func (g *generation) setServer(srv *reactor.Server) {
	for _, lu := range g.upstreams {
		if lu.wsgi != nil {
			lu.wsgi.setServer(srv)
		}
	}
}

// reloadWSGI replaces the workers of every wsgi pool g runs (SIGHUP); it
// reports whether there was one.
func (g *generation) reloadWSGI(why string) bool {
	found := false
	for _, name := range sortedKeys(g.upstreams) {
		if lu := g.upstreams[name]; lu.wsgi != nil {
			lu.wsgi.reload(why)
			found = true
		}
	}
	return found
}
