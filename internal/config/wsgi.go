package config

import (
	"fmt"
	"strings"
)

// StaticMount serves a URL prefix from a directory (`gale wsgi -static
// /static/=./static`).
type StaticMount struct {
	Prefix, Dir string
}

// ParseStaticMount parses PREFIX=DIR; the prefix gets a trailing slash.
func ParseStaticMount(s string) (StaticMount, error) {
	prefix, dir, ok := strings.Cut(s, "=")
	if !ok || !strings.HasPrefix(prefix, "/") || dir == "" {
		return StaticMount{}, fmt.Errorf("want /prefix/=directory, got %q", s)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return StaticMount{Prefix: prefix, Dir: dir}, nil
}

// AddWSGI adds the upstream "app", which runs the WSGI application w with
// gale's own workers, routes the default vhost's "/" to it, and serves
// each static mount from its directory (`gale wsgi`).
func (c *Config) AddWSGI(w *WSGI, static []StaticMount) {
	u := withDefaults[Upstream]()
	u.WSGI = w
	if c.Upstreams == nil {
		c.Upstreams = map[string]*Upstream{}
	}
	c.Upstreams["app"] = u
	vh := c.defaultVHost()
	if vh.Root == "" {
		vh.Root = w.Dir
	}
	f := withDefaults[FastCGI]()
	f.Upstream, f.Mode = "app", "pass"
	vh.routeRoot(&Location{Prefix: "/", FastCGI: f})
	for _, m := range static {
		vh.Locations = append(vh.Locations, &Location{Prefix: m.Prefix, Alias: m.Dir})
	}
}
