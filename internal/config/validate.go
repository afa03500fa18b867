package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// validator collects the meaning errors of a decoded configuration.
type validator struct {
	c    *Config
	errs Errors
}

// errorf records an error at the value named path, or at the nearest
// enclosing value the file has (a key left out is reported at its parent).
func (v *validator) errorf(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for p := path; ; p = parent(p) {
		if pos, ok := v.c.pos[p]; ok {
			if pos.env != "" {
				v.errs = append(v.errs, Error{File: "$" + pos.env, Msg: msg})
			} else {
				v.errs.add(v.c.file, pos.Line, pos.Col, msg)
			}
			return
		}
		if p == "" {
			v.errs = append(v.errs, Error{File: v.fileName(), Msg: msg})
			return
		}
	}
}

func (v *validator) fileName() string {
	if v.c.file == "" {
		return "flags"
	}
	return v.c.file
}

// parent strips the last element of a path: "a.b[2]" -> "a.b" -> "a".
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Validate checks what the file means: addresses, durations, roots that
// exist, locations that name defined upstreams, one default vhost, and
// so on. It reports every problem, each at its place in the file. It also
// makes relative paths absolute, relative to the file's directory.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.top()
	for _, name := range c.upstreamNames() {
		v.upstream(name, c.Upstreams[name])
	}
	v.vhosts()
	v.guard()
	return v.errs.err()
}

func (c *Config) upstreamNames() []string {
	names := make([]string, 0, len(c.Upstreams))
	for n := range c.Upstreams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (v *validator) top() {
	c := v.c
	v.hostPort("listen", c.Listen)
	if c.Admin != "" {
		v.hostPort("admin", c.Admin)
	}
	if c.Loops < 0 {
		v.errorf("loops", "loops: must be 0 (one per CPU) or more")
	}
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.oneOf("log.access_format", c.Log.AccessFormat, "combined", "json")
	if c.Log.Access == "" {
		v.errorf("log.access", "log.access: want a path, stdout or off")
	}
	v.positive("shutdown_timeout", c.ShutdownTimeout)
	v.positive("timeouts.idle", c.Timeouts.Idle)
	v.positive("timeouts.header", c.Timeouts.Header)
	v.positive("timeouts.body", c.Timeouts.Body)
	v.positive("timeouts.send", c.Timeouts.Send)
	l := c.Limits
	if l.MaxConns < 0 {
		v.errorf("limits.max_conns", "limits.max_conns: must be 0 (no cap) or positive")
	}
	// A list, not a map: errors without a place in the file keep this order.
	for _, f := range []struct {
		path string
		n    int64
	}{
		{"limits.max_request_line", int64(l.MaxRequestLine)}, {"limits.max_header_bytes", int64(l.MaxHeaderBytes)},
		{"limits.max_headers", int64(l.MaxHeaders)}, {"limits.max_body", int64(l.MaxBody)},
		{"limits.max_chunk_ext", int64(l.MaxChunkExt)}, {"limits.max_trailer_bytes", int64(l.MaxTrailerBytes)},
		{"limits.max_requests_per_conn", int64(l.MaxRequestsPerConn)},
		{"cache.max_file", int64(c.Cache.MaxFile)}, {"cache.max_total", int64(c.Cache.MaxTotal)},
	} {
		if f.n <= 0 {
			v.errorf(f.path, "%s: must be positive", f.path)
		}
	}
	if len(c.VHosts) == 0 {
		v.errorf("vhosts", "vhosts: at least one vhost is needed")
	}
}

func (v *validator) hostPort(path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.errorf(path, "%s: bad address %q: want host:port or :port", path, addr)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.errorf(path, "%s: bad port %q", path, port)
	}
	if strings.ContainsAny(host, " /") {
		v.errorf(path, "%s: bad host %q", path, host)
	}
}

func (v *validator) oneOf(path, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.errorf(path, "%s: %q is not one of %s", path, val, strings.Join(allowed, ", "))
}

func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.errorf(path, "%s: must be a positive duration", path)
	}
}

func (v *validator) upstream(name string, u *Upstream) {
	p := "upstreams." + name
	if u == nil {
		v.errorf(p, "%s: empty upstream", p)
		return
	}
	for i, b := range u.Backends {
		if _, err := upstream.ParseAddrs(b); err != nil || strings.Contains(b, ",") {
			v.errorf(fmt.Sprintf("%s.backends[%d]", p, i), "%s.backends[%d]: bad backend %q: want host:port or unix:/path", p, i, b)
		}
	}
	if len(u.Backends) == 0 && u.Spawn == nil && u.WSGI == nil {
		v.errorf(p, "%s: no backends (list them, or spawn them)", p)
	}
	if u.MaxConns < 0 {
		v.errorf(p+".max_conns", "%s.max_conns: must be 0 (automatic) or more", p)
	}
	if u.MaxMux < 1 {
		v.errorf(p+".max_mux", "%s.max_mux: must be 1 or more", p)
	}
	if u.Pipeline < 0 || u.Pipeline > 16 {
		v.errorf(p+".pipeline", "%s.pipeline: must be 1 (off) to 16, or 0 (the default)", p)
	}
	if u.MaxFails < 1 {
		v.errorf(p+".max_fails", "%s.max_fails: must be 1 or more", p)
	}
	v.oneOf(p+".balance", u.Balance, "round_robin", "least_conn")
	v.oneOf(p+".protocol", u.Protocol, "fastcgi", "scgi", "uwsgi", "http")
	v.positive(p+".timeouts.connect", u.Timeouts.Connect)
	v.positive(p+".timeouts.read", u.Timeouts.Read)
	v.positive(p+".timeouts.queue", u.Timeouts.Queue)
	v.positive(p+".timeouts.idle", u.Timeouts.Idle)
	v.positive(p+".fail_timeout", u.FailTimeout)
	if s := u.Spawn; s != nil {
		v.spawn(p+".spawn", s)
	}
	if w := u.WSGI; w != nil {
		v.wsgi(p, u, w)
	}
}

// wsgi checks an upstream's wsgi section; it resolves Dir and Python.
func (v *validator) wsgi(p string, u *Upstream, w *WSGI) {
	wp := p + ".wsgi"
	if len(u.Backends) > 0 || u.Spawn != nil {
		v.errorf(wp, "%s: an upstream runs its wsgi workers or has backends or spawn, not both", wp)
	}
	if u.Protocol != "fastcgi" {
		v.errorf(p+".protocol", "%s.protocol: gale's wsgi workers speak fastcgi, not %s", p, u.Protocol)
	}
	mod, attr, _ := strings.Cut(w.App, ":")
	if !pythonDotted(mod) || attr != "" && !pythonDotted(attr) {
		v.errorf(wp+".app", "%s.app: want module:callable (e.g. mysite.wsgi:application), got %q", wp, w.App)
	}
	if w.Dir == "" {
		w.Dir = "."
	}
	w.Dir = v.abs(w.Dir)
	if st, err := os.Stat(w.Dir); err != nil || !st.IsDir() {
		v.errorf(wp+".dir", "%s.dir: %s is not a directory", wp, w.Dir)
	}
	if w.Python == "" {
		w.Python = DefaultPython(os.Getenv)
	}
	if _, err := exec.LookPath(w.Python); err != nil {
		v.errorf(wp+".python", "%s.python: %v", wp, err)
	}
	if w.Workers < 0 || w.Workers > 1024 {
		v.errorf(wp+".workers", "%s.workers: must be 0 (one per CPU) to 1024", wp)
	}
	if w.MaxRequests < 0 {
		v.errorf(wp+".max_requests", "%s.max_requests: must be 0 (never) or more", wp)
	}
}

// DefaultPython is the interpreter of a wsgi section that names none:
// the active virtualenv's, else python3 from PATH.
func DefaultPython(getenv func(string) string) string {
	if venv := getenv("VIRTUAL_ENV"); venv != "" {
		return filepath.Join(venv, "bin", "python")
	}
	return "python3"
}

// pythonDotted reports whether s is a dotted Python name (mysite.wsgi).
func pythonDotted(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for _, c := range part {
			if c != '_' && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') && c < 0x80 {
				return false
			}
		}
	}
	return true
}

func (v *validator) spawn(p string, s *Spawn) {
	if len(s.Command) == 0 || s.Command[0] == "" {
		v.errorf(p+".command", "%s.command: the program to run is missing", p)
	} else if _, err := exec.LookPath(s.Command[0]); err != nil {
		v.errorf(p+".command[0]", "%s.command: %v", p, err)
	}
	if s.Count < 1 {
		v.errorf(p+".count", "%s.count: must be 1 or more", p)
	}
	if s.Socket == "" {
		v.errorf(p+".socket", "%s.socket: the unix socket path is missing", p)
		return
	}
	s.Socket = v.abs(s.Socket)
	if s.Count > 1 && !strings.Contains(s.Socket, "{n}") {
		v.errorf(p+".socket", "%s.socket: with count %d the path needs {n} (one socket per process)", p, s.Count)
	}
	if len(s.SocketPath(s.Count-1)) > 107 {
		v.errorf(p+".socket", "%s.socket: longer than a unix socket path may be (107 bytes)", p)
	}
	if st, err := os.Stat(filepath.Dir(s.Socket)); err != nil || !st.IsDir() {
		v.errorf(p+".socket", "%s.socket: directory %s does not exist", p, filepath.Dir(s.Socket))
	}
}

// SocketPath is the socket of process i.
func (s *Spawn) SocketPath(i int) string {
	return strings.ReplaceAll(s.Socket, "{n}", strconv.Itoa(max(i, 0)))
}

// abs resolves a relative path against the configuration file's
// directory (the working directory for flags).
func (v *validator) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	base := "."
	if v.c.file != "" {
		base = filepath.Dir(v.c.file)
	}
	a, err := filepath.Abs(filepath.Join(base, p))
	if err != nil {
		return p
	}
	return a
}

func (v *validator) vhosts() {
	names := map[string]string{} // name -> the vhost that has it
	defaults := 0
	for i, vh := range v.c.VHosts {
		p := fmt.Sprintf("vhosts[%d]", i)
		if vh == nil {
			v.errorf(p, "%s: empty vhost", p)
			continue
		}
		if vh.Default {
			defaults++
			if defaults > 1 {
				v.errorf(p+".default", "%s.default: only one vhost can be the default", p)
			}
		}
		if len(vh.Names) == 0 && !vh.Default && len(v.c.VHosts) > 1 {
			v.errorf(p, "%s: no names and not the default: it would never be used", p)
		}
		for j, n := range vh.Names {
			np := fmt.Sprintf("%s.names[%d]", p, j)
			ln := strings.ToLower(n)
			if !validHostPattern(ln) {
				v.errorf(np, "%s: bad host name %q (want example.com or *.example.com)", np, n)
				continue
			}
			if other, dup := names[ln]; dup {
				v.errorf(np, "%s: %q is already a name of %s", np, n, other)
			}
			names[ln] = p
		}
		for j, idx := range vh.Index {
			if idx == "" || strings.ContainsRune(idx, '/') || idx[0] == '.' {
				v.errorf(fmt.Sprintf("%s.index[%d]", p, j), "%s.index: bad index name %q", p, idx)
			}
		}
		for j, r := range vh.Redirects {
			rp := fmt.Sprintf("%s.redirects[%d]", p, j)
			if r == nil {
				v.errorf(rp, "%s: empty redirect", rp)
			} else if err := handlers.CheckRedirect(r.Match, r.To, r.Status); err != nil {
				v.errorf(rp, "%s: %v", rp, err)
			}
		}
		for j, r := range vh.Rewrites {
			rp := fmt.Sprintf("%s.rewrites[%d]", p, j)
			if r == nil {
				v.errorf(rp, "%s: empty rewrite", rp)
			} else if err := handlers.CheckRewrite(r.Match, r.To); err != nil {
				v.errorf(rp, "%s: %v", rp, err)
			}
		}
		vh.Root = v.abs(vh.Root)
		if len(vh.Locations) == 0 {
			v.root(p+".root", vh.Root, "static files")
		}
		v.locations(p, vh)
	}
}

func (v *validator) locations(vp string, vh *VHost) {
	prefixes := map[string]bool{}
	for i, loc := range vh.Locations {
		p := fmt.Sprintf("%s.locations[%d]", vp, i)
		if loc == nil {
			v.errorf(p, "%s: empty location", p)
			continue
		}
		switch {
		case loc.Prefix != "" && len(loc.Ext) > 0:
			v.errorf(p, "%s: prefix and ext are exclusive: one location matches one way", p)
		case loc.Prefix == "" && len(loc.Ext) == 0:
			v.errorf(p, "%s: needs a prefix (\"/\") or an ext ([.php])", p)
		case loc.Prefix != "":
			if loc.Prefix[0] != '/' {
				v.errorf(p+".prefix", "%s.prefix: %q must start with /", p, loc.Prefix)
			}
			if prefixes[loc.Prefix] {
				v.errorf(p+".prefix", "%s.prefix: %q is already a location of this vhost", p, loc.Prefix)
			}
			prefixes[loc.Prefix] = true
		}
		for j, e := range loc.Ext {
			if !validExt(e) {
				v.errorf(fmt.Sprintf("%s.ext[%d]", p, j), "%s.ext: bad extension %q (want .php)", p, e)
			}
		}
		v.rules(p, loc)
		v.cache(p, loc)
		if loc.Buffering != "" { // locations made from flags leave it unset: on
			v.oneOf(p+".buffering", loc.Buffering, "on", "off")
		}
		loc.Root = v.abs(loc.Root)
		loc.Alias = v.abs(loc.Alias)
		root := loc.EffectiveRoot(vh)
		rootPath := p + ".root" // where a root error is reported
		if loc.Root == "" && vh.Root != "" {
			rootPath = vp + ".root" // inherited
		}
		f := loc.FastCGI
		if loc.Proxy != nil {
			v.proxy(p, rootPath, root, loc)
			continue
		}
		if loc.Alias != "" {
			switch {
			case f != nil || loc.CGI != nil:
				v.errorf(p+".alias", "%s.alias: static files only: a fastcgi or cgi location has a root", p)
			case loc.Root != "":
				v.errorf(p+".alias", "%s.alias: root and alias are exclusive", p)
			case loc.Prefix == "" || !strings.HasSuffix(loc.Prefix, "/"):
				// /static would also match /staticfoo and serve
				// ALIASfoo, a sibling of the aliased directory.
				v.errorf(p+".alias", "%s.alias: needs a prefix that ends with /", p)
			}
			rootPath = p + ".alias"
		}
		if loc.CGI != nil {
			if f != nil {
				v.errorf(p+".cgi", "%s: fastcgi and cgi are exclusive", p)
			}
			v.root(rootPath, root, "CGI scripts")
			v.cgi(p+".cgi", loc.CGI)
			continue
		}
		if f == nil {
			if !loc.DeniesAll() {
				v.root(rootPath, root, "static files")
			}
			continue
		}
		fp := p + ".fastcgi"
		if u := v.upstreamRef(fp, f.Upstream); u != nil && u.Protocol == "http" {
			v.errorf(fp+".upstream", "%s.upstream: %q speaks http: route to it with proxy, not fastcgi", fp, f.Upstream)
		}
		v.oneOf(fp+".mode", f.Mode, "front_controller", "pass")
		for j, pat := range f.Refuse {
			if err := handlers.CheckRefusePattern(pat); err != nil {
				v.errorf(fmt.Sprintf("%s.refuse[%d]", fp, j), "%s.refuse[%d]: %v", fp, j, err)
			}
		}
		if f.Mount != "" {
			m := strings.TrimSuffix(f.Mount, "/")
			switch {
			case f.Mode != "pass":
				v.errorf(fp+".mount", "%s.mount: only for mode pass (a front_controller's SCRIPT_NAME is its script)", fp)
			case f.Mount[0] != '/':
				v.errorf(fp+".mount", "%s.mount: %q must start with /", fp, f.Mount)
			case loc.Prefix == "" || !strings.HasPrefix(loc.Prefix, m) || len(loc.Prefix) > len(m) && loc.Prefix[len(m)] != '/':
				v.errorf(fp+".mount", "%s.mount: %q must be the location's prefix or a path above it", fp, f.Mount)
			}
		}
		if f.Mode == "front_controller" {
			v.root(rootPath, root, "a front_controller's existing files")
			if !strings.HasPrefix(f.Index, "/") || !strings.HasSuffix(f.Index, f.Ext) {
				v.errorf(fp+".index", "%s.index: %q must start with / and end with %s", fp, f.Index, f.Ext)
			}
			if !validExt(f.Ext) {
				v.errorf(fp+".ext", "%s.ext: bad extension %q", fp, f.Ext)
			}
		}
	}
}

// cgi checks a location's CGI settings and resolves its interpreters to
// absolute paths (a script's environment has no PATH of gale's).
func (v *validator) cgi(p string, c *CGI) {
	for _, ext := range sortedKeys(c.Assign) {
		ep := p + ".assign." + ext
		if !validExt(ext) {
			v.errorf(ep, "%s: bad extension %q (want .py)", ep, ext)
		}
		interp := c.Assign[ext]
		if interp == "" {
			continue
		}
		path, err := exec.LookPath(interp)
		if err != nil {
			v.errorf(ep, "%s: %v", ep, err)
			continue
		}
		if abs, err := filepath.Abs(path); err == nil {
			c.Assign[ext] = abs
		}
	}
	if c.MaxScripts < 1 {
		v.errorf(p+".max_scripts", "%s.max_scripts: must be 1 or more", p)
	}
	v.positive(p+".timeout", c.Timeout)
	v.positive(p+".queue", c.Queue)
	for _, name := range sortedKeys(c.Env) {
		if name == "" || strings.ContainsAny(name, "=\x00") || strings.ContainsRune(c.Env[name], 0) {
			v.errorf(p+".env."+name, "%s.env: bad variable %q", p, name)
		}
	}
}

// proxy checks a location that proxies to an HTTP upstream.
func (v *validator) proxy(p, rootPath, root string, loc *Location) {
	pp := p + ".proxy"
	switch {
	case loc.FastCGI != nil || loc.CGI != nil:
		v.errorf(pp, "%s: proxy, fastcgi and cgi are exclusive: one application per location", pp)
	case loc.Alias != "":
		v.errorf(p+".alias", "%s.alias: static files only: a proxy location has a root (with files: true)", p)
	}
	if u := v.upstreamRef(pp, loc.Proxy.Upstream); u != nil && u.Protocol != "http" {
		v.errorf(pp+".upstream", "%s.upstream: %q speaks %s; a proxy needs protocol: http", pp, loc.Proxy.Upstream, u.Protocol)
	}
	if loc.Proxy.Files {
		v.root(rootPath, root, "a proxy's existing files")
	}
}

// validExt reports whether e is a file extension as locations, front
// controllers and CGI match them: a dot, then a name without a slash.
func validExt(e string) bool {
	return len(e) >= 2 && e[0] == '.' && !strings.ContainsRune(e, '/')
}

// upstreamRef checks p.upstream, the name of the upstream a location
// routes to, and returns that upstream (nil when missing or unknown).
func (v *validator) upstreamRef(p, name string) *Upstream {
	if name == "" {
		v.errorf(p+".upstream", "%s.upstream: missing", p)
		return nil
	}
	u := v.c.Upstreams[name]
	if u == nil {
		v.errorf(p+".upstream", "%s.upstream: no upstream named %q (defined: %s)", p, name, strings.Join(v.c.upstreamNames(), ", "))
	}
	return u
}

// EffectiveRoot is the directory the location's files come from: its
// alias, its root, or its vhost's root.
func (loc *Location) EffectiveRoot(vh *VHost) string {
	if loc.Alias != "" {
		return loc.Alias
	}
	if loc.Root != "" {
		return loc.Root
	}
	return vh.Root
}

// EffectiveFollowSymlinksOutside is the location's setting, or its
// vhost's.
func (loc *Location) EffectiveFollowSymlinksOutside(vh *VHost) bool {
	if loc.FollowSymlinksOutside != nil {
		return *loc.FollowSymlinksOutside
	}
	return vh.FollowSymlinksOutside
}

// DeniesAll reports whether the location refuses every request (deny:
// all), so that it needs nothing to serve.
func (loc *Location) DeniesAll() bool {
	for _, d := range loc.Deny {
		if d == "all" {
			return true
		}
	}
	return false
}

// rules checks a location's access, header and expiry rules.
func (v *validator) rules(p string, loc *Location) {
	for _, list := range []struct {
		key   string
		items []string
	}{{"deny", loc.Deny}, {"allow", loc.Allow}} {
		for j, a := range list.items {
			ip := fmt.Sprintf("%s.%s[%d]", p, list.key, j)
			if a == "all" && list.key == "deny" {
				continue
			}
			if _, err := ParsePrefix(a); err != nil {
				v.errorf(ip, "%s: %v", ip, err)
			}
		}
	}
	if h := loc.Headers; h != nil {
		v.headerRules(p+".headers", map[string]map[string]string{"set": h.Set, "add": h.Add}, h.Remove, ownHeaders)
	}
	if h := loc.RequestHeaders; h != nil {
		v.headerRules(p+".request_headers", map[string]map[string]string{"set": h.Set}, h.Remove, framingHeaders)
	}
	if loc.Expires != "" {
		if _, err := ParseAge(loc.Expires); err != nil {
			v.errorf(p+".expires", "%s.expires: %v", p, err)
		}
	}
}

// cache checks a location's response cache block.
func (v *validator) cache(p string, loc *Location) {
	c := loc.Cache
	if c == nil {
		return
	}
	p += ".cache"
	if loc.FastCGI == nil && loc.Proxy == nil && loc.CGI == nil {
		v.errorf(p, "%s: only a fastcgi, proxy or cgi location has responses to cache", p)
	}
	if c.TagHeader != "" && !httpcodec.ValidFieldName(c.TagHeader) {
		v.errorf(p+".tag_header", "%s.tag_header: bad header name %q", p, c.TagHeader)
	}
	for j, ck := range c.BypassCookies {
		name := strings.TrimSuffix(ck, "*")
		if !httpcodec.ValidFieldName(name) { // a cookie name is a token too
			v.errorf(fmt.Sprintf("%s.bypass_cookies[%d]", p, j), "%s.bypass_cookies: bad cookie name %q (want a name or a prefix ending in *)", p, ck)
		}
	}
	if c.LockTimeout == 0 {
		v.errorf(p+".lock_timeout", "%s.lock_timeout: must be positive", p)
	}
}

// headerRules checks the header rules at path hp: the fields each of
// valued sets (by its key: set, add) gives a value, and those remove
// drops, none of them in reserved.
func (v *validator) headerRules(hp string, valued map[string]map[string]string, remove []string, reserved *reservedFields) {
	for _, key := range []string{"set", "add"} {
		m := valued[key]
		for _, name := range sortedKeys(m) {
			np := hp + "." + key + "." + name
			v.headerName(np, name, reserved)
			if !httpcodec.ValidFieldValue(m[name]) {
				v.errorf(np, "%s: bad header value %q", np, m[name])
			}
		}
	}
	for j, name := range remove {
		v.headerName(fmt.Sprintf("%s.remove[%d]", hp, j), name, reserved)
	}
}

// reservedFields are header fields a rule may not touch, and why.
type reservedFields struct {
	names []string
	why   string
}

// ownHeaders are the response fields gale writes itself: framing and the
// connection's, which a rule changing would break the response.
var ownHeaders = &reservedFields{
	names: []string{"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive", "upgrade", "trailer"},
	why:   "is gale's own header: it cannot be changed",
}

// framingHeaders are the request fields that say how the request is
// framed or are hop-by-hop: gale decides them, a rule changing them would
// smuggle.
var framingHeaders = &reservedFields{
	names: []string{"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect"},
	why:   "frames the request: it cannot be changed",
}

// headerName checks one field name of a rule at path.
func (v *validator) headerName(path, name string, reserved *reservedFields) {
	if !httpcodec.ValidFieldName(name) {
		v.errorf(path, "%s: bad header name %q", path, name)
		return
	}
	for _, o := range reserved.names {
		if strings.EqualFold(name, o) {
			v.errorf(path, "%s: %s %s", path, name, reserved.why)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParsePrefix parses an allow or deny entry: a CIDR or a single address
// (a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("bad CIDR %q", s)
		}
		if p != p.Masked() {
			return p, fmt.Errorf("bad CIDR %q: host bits set (did you mean %s?)", s, p.Masked())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad address %q (want a CIDR like 10.0.0.0/8, an address, or all)", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseAge parses an expires value into seconds: a number with a unit of
// s, m, h, d or y (365 days), or 0.
func ParseAge(s string) (int64, error) {
	if s == "0" {
		return 0, nil
	}
	units := map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'y': 365 * 86400}
	if len(s) < 2 || units[s[len(s)-1]] == 0 {
		return 0, fmt.Errorf("bad age %q (want e.g. 365d, 12h, 30m)", s)
	}
	const maxAge = 100 * 365 * 86400 // and no overflow
	unit := units[s[len(s)-1]]
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n < 0 || n > maxAge/unit {
		return 0, fmt.Errorf("bad age %q (want e.g. 365d, 12h, 30m; at most 100y)", s)
	}
	return n * unit, nil
}

func (v *validator) root(path, dir, what string) {
	if dir == "" {
		v.errorf(path, "%s: missing: %s are served from a root", path, what)
		return
	}
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		v.errorf(path, "%s: %s: %v", path, dir, errors.Unwrap(err))
	case !st.IsDir():
		v.errorf(path, "%s: %s is not a directory", path, dir)
	}
}

// validHostPattern accepts a lower-case host name, optionally "*."
// followed by one.
func validHostPattern(n string) bool {
	n = strings.TrimPrefix(n, "*.")
	if n == "" || len(n) > 253 {
		return false
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
