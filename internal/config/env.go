package config

import (
	"fmt"
	"strconv"
	"strings"
)

// EnvVar is an environment variable that overrides a setting, for
// containers where mounting a file is more work than setting a variable.
// The environment overrides the file; explicit command-line flags
// override both.
type EnvVar struct {
	Name string // GALE_...
	Key  string // the setting it overrides
	Doc  string
	set  func(c *Config, val string) error
}

// EnvVars lists every GALE_* variable gale reads; the README's table is
// rendered from it.
var EnvVars = []EnvVar{
	{"GALE_LISTEN", "listen", "listen address", func(c *Config, s string) error { c.Listen = s; return nil }},
	{"GALE_LOOPS", "loops", "number of event loops", func(c *Config, s string) error { return setInt(&c.Loops, s) }},
	{"GALE_ROOT", "vhosts[default].root", "document root of the default vhost (a static vhost is created when the file has none)",
		func(c *Config, s string) error { c.SetRoot(s); return nil }},
	{"GALE_FASTCGI", "upstreams.*.backends", "comma-separated backends of the only upstream (spawn is then off); with no upstream, creates `fastcgi` and serves the default vhost's / through a front controller, like -fastcgi",
		func(c *Config, s string) error { return c.SetFastCGI(s) }},
	{"GALE_LOG_LEVEL", "log.level", "debug, info, warn or error", func(c *Config, s string) error { c.Log.Level = s; return nil }},
	{"GALE_LOG_FORMAT", "log.format", "text or json", func(c *Config, s string) error { c.Log.Format = s; return nil }},
	{"GALE_ACCESS_LOG", "log.access", "path, stdout or off", func(c *Config, s string) error { c.Log.Access = s; return nil }},
	{"GALE_ACCESS_LOG_FORMAT", "log.access_format", "combined or json", func(c *Config, s string) error { c.Log.AccessFormat = s; return nil }},
	{"GALE_ADMIN", "admin", "admin listener address (empty: none)", func(c *Config, s string) error { c.Admin = s; return nil }},
	{"GALE_SHUTDOWN_TIMEOUT", "shutdown_timeout", "drain deadline on SIGTERM", func(c *Config, s string) error { return c.ShutdownTimeout.parse(s) }},
	{"GALE_MAX_BODY", "limits.max_body", "largest request body", func(c *Config, s string) error { return c.Limits.MaxBody.parse(s) }},
	{"GALE_COMPRESSION", "compression", "true or false", func(c *Config, s string) error {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", s)
		}
		c.Compression = &b
		return nil
	}},
}

func setInt(p *int, s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want an integer, got %q", s)
	}
	*p = n
	return nil
}

// ApplyEnv applies the GALE_* variables that lookup (os.LookupEnv) finds.
// Errors name the variable; later Validate errors about a value that came
// from a variable name it too.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	var errs Errors
	for _, e := range EnvVars {
		val, ok := lookup(e.Name)
		if !ok {
			continue
		}
		if err := e.set(c, val); err != nil {
			errs = append(errs, Error{File: "$" + e.Name, Msg: err.Error()})
			continue
		}
		c.markEnv(e)
	}
	return errs.err()
}

// markEnv points the positions of what e set at the variable.
func (c *Config) markEnv(e EnvVar) {
	if c.pos == nil {
		c.pos = map[string]Pos{}
	}
	switch e.Name {
	case "GALE_ROOT":
		c.pos[fmt.Sprintf("vhosts[%d].root", c.DefaultVHost())] = Pos{env: e.Name}
	case "GALE_FASTCGI":
		for name := range c.Upstreams {
			c.pos["upstreams."+name+".backends"] = Pos{env: e.Name}
		}
	default:
		c.pos[e.Key] = Pos{env: e.Name}
	}
}

// DefaultVHost is the index of the vhost that answers unknown Hosts: the
// one marked default, else the first; -1 without vhosts.
func (c *Config) DefaultVHost() int {
	for i, vh := range c.VHosts {
		if vh != nil && vh.Default {
			return i
		}
	}
	if len(c.VHosts) == 0 {
		return -1
	}
	return 0
}

// SetRoot sets the default vhost's root, creating a static vhost when
// there is none (the -root flag and GALE_ROOT).
func (c *Config) SetRoot(dir string) { c.defaultVHost().Root = dir }

// defaultVHost is the default vhost, created when there is none.
func (c *Config) defaultVHost() *VHost {
	i := c.DefaultVHost()
	if i < 0 {
		vh := withDefaults[VHost]()
		vh.Default = true
		c.VHosts = append(c.VHosts, vh)
		i = len(c.VHosts) - 1
	}
	return c.VHosts[i]
}

// backendList splits a comma-separated list of backends (-fastcgi,
// -proxy), dropping blanks.
func backendList(list string) ([]string, error) {
	var backends []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			backends = append(backends, b)
		}
	}
	if len(backends) == 0 {
		return nil, fmt.Errorf("no backends in %q", list)
	}
	return backends, nil
}

// routeRoot makes loc the vhost's "/" location, keeping the root of the
// one it replaces, or adds it.
func (vh *VHost) routeRoot(loc *Location) {
	for j, l := range vh.Locations {
		if l != nil && l.Prefix == "/" {
			loc.Root = l.Root
			vh.Locations[j] = loc
			return
		}
	}
	vh.Locations = append(vh.Locations, loc)
}

// SetFastCGI points the configuration at the FastCGI backends in list
// (comma-separated): the backends of its only upstream, or a new upstream
// "fastcgi" that the default vhost's "/" reaches through a front
// controller (the -fastcgi flag and GALE_FASTCGI).
func (c *Config) SetFastCGI(list string) error {
	backends, err := backendList(list)
	if err != nil {
		return err
	}
	switch len(c.Upstreams) {
	case 0:
	case 1:
		for _, u := range c.Upstreams {
			u.Backends, u.Spawn = backends, nil
		}
		return nil
	default:
		return fmt.Errorf("the configuration has %d upstreams: which one is meant is ambiguous", len(c.Upstreams))
	}
	u := withDefaults[Upstream]()
	u.Backends = backends
	c.Upstreams = map[string]*Upstream{"fastcgi": u}
	i := c.DefaultVHost()
	if i < 0 {
		return fmt.Errorf("no vhost to route to the backends (set a root)")
	}
	vh := c.VHosts[i]
	loc := &Location{Prefix: "/", FastCGI: withDefaults[FastCGI]()}
	loc.FastCGI.Upstream = "fastcgi"
	vh.routeRoot(loc)
	return nil
}

// AddDemoApp adds the upstream "demo", which spawns the built-in demo
// FastCGI application (`gale fcgi-demo`, the binary at self) on socket,
// and routes the default vhost's /app/ to it.
func (c *Config) AddDemoApp(self, socket string) error {
	i := c.DefaultVHost()
	if i < 0 {
		return fmt.Errorf("demo app: no vhost")
	}
	u := withDefaults[Upstream]()
	u.Spawn = &Spawn{Command: []string{self, "fcgi-demo", "-listen", "unix:{socket}"}, Count: 1, Socket: socket}
	if c.Upstreams == nil {
		c.Upstreams = map[string]*Upstream{}
	}
	c.Upstreams["demo"] = u
	vh := c.VHosts[i]
	if len(vh.Locations) == 0 {
		vh.Locations = append(vh.Locations, &Location{Prefix: "/"})
	}
	f := withDefaults[FastCGI]()
	f.Upstream, f.Mode = "demo", "pass"
	vh.Locations = append(vh.Locations, &Location{Prefix: "/app/", FastCGI: f})
	return nil
}

// SetProxy points the configuration at the HTTP backends in list
// (comma-separated): a new upstream "app" of protocol http that the
// default vhost's "/" proxies to, serving the files under its root first
// when files is set (the -proxy flag: gale -root DIR -proxy ADDR). It
// replaces the vhost's "/" location; other upstreams stay.
func (c *Config) SetProxy(list string, files bool) error {
	backends, err := backendList(list)
	if err != nil {
		return err
	}
	u := withDefaults[Upstream]()
	u.Backends, u.Protocol = backends, "http"
	if c.Upstreams == nil {
		c.Upstreams = map[string]*Upstream{}
	}
	c.Upstreams["app"] = u
	vh := c.defaultVHost()
	loc := &Location{Prefix: "/", Proxy: withDefaults[Proxy]()}
	loc.Proxy.Upstream, loc.Proxy.Files = "app", files
	vh.routeRoot(loc)
	return nil
}
