package config

import (
	"strings"
	"testing"
)

// TestWSGIErrors: a wsgi section is checked at its place in the file.
func TestWSGIErrors(t *testing.T) {
	up := func(body string) string { return "upstreams:\n  py:\n" + body }
	for _, tc := range []struct {
		name, text, want string
	}{
		{"bad app", up("    wsgi: {app: 'my site:app', python: /bin/sh}\n"), `:3:17: upstreams.py.wsgi.app: want module:callable`},
		{"empty app", up("    wsgi: {python: /bin/sh}\n"), `upstreams.py.wsgi.app: want module:callable`},
		{"no python", up("    wsgi: {app: 'a:b', python: /no/such/python}\n"), `upstreams.py.wsgi.python: `},
		{"missing dir", up("    wsgi: {app: 'a:b', python: /bin/sh, dir: /no/such/dir}\n"), `upstreams.py.wsgi.dir: /no/such/dir is not a directory`},
		{"with backends", up("    backends: [unix:/s]\n    wsgi: {app: 'a:b', python: /bin/sh}\n"), `upstreams.py.wsgi: an upstream runs its wsgi workers or has backends or spawn, not both`},
		{"not fastcgi", up("    protocol: http\n    wsgi: {app: 'a:b', python: /bin/sh}\n"), `upstreams.py.protocol: gale's wsgi workers speak fastcgi`},
		{"workers", up("    wsgi: {app: 'a:b', python: /bin/sh, workers: -1}\n"), `upstreams.py.wsgi.workers: must be 0`},
		{"max_rss", up("    wsgi: {app: 'a:b', python: /bin/sh, max_rss: lots}\n"), `upstreams.py.wsgi.max_rss: bad size "lots"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := check(t, tc.text)
			for _, e := range errs {
				if strings.HasPrefix(e, tc.want) || !strings.HasPrefix(tc.want, ":") && strings.Contains(e, tc.want) {
					return
				}
			}
			t.Errorf("want an error starting %q, got %q", tc.want, errs)
		})
	}
	good := up("    wsgi: {app: mysite.wsgi:application, python: /bin/sh, workers: 2, max_requests: 1000, max_rss: 512MiB}\n") +
		"vhosts:\n  - root: .\n    locations:\n      - {prefix: /, fastcgi: {upstream: py, mode: pass}}\n"
	if errs := check(t, good); errs != nil {
		t.Errorf("good wsgi: %q", errs)
	}
}

func TestDefaultPython(t *testing.T) {
	env := map[string]string{"VIRTUAL_ENV": "/srv/venv"}
	if got := DefaultPython(func(k string) string { return env[k] }); got != "/srv/venv/bin/python" {
		t.Errorf("with VIRTUAL_ENV: %q", got)
	}
	if got := DefaultPython(func(string) string { return "" }); got != "python3" {
		t.Errorf("without: %q", got)
	}
}

func TestAddWSGI(t *testing.T) {
	c := Default()
	c.AddWSGI(&WSGI{App: "app:app", Dir: "/srv/app", Python: "/bin/sh"}, []StaticMount{{Prefix: "/static/", Dir: "/srv/app/static"}})
	vh := c.VHosts[c.DefaultVHost()]
	if u := c.Upstreams["app"]; u == nil || u.WSGI == nil || len(vh.Locations) != 2 ||
		vh.Locations[0].FastCGI == nil || vh.Locations[0].FastCGI.Mode != "pass" || vh.Locations[1].Alias != "/srv/app/static" {
		t.Fatalf("%+v %+v", c.Upstreams, vh.Locations)
	}
	if m, err := ParseStaticMount("/media=./media"); err != nil || m.Prefix != "/media/" || m.Dir != "./media" {
		t.Errorf("ParseStaticMount: %+v %v", m, err)
	}
	for _, bad := range []string{"media=./m", "/m/=", "/m/"} {
		if _, err := ParseStaticMount(bad); err == nil {
			t.Errorf("ParseStaticMount(%q) accepted", bad)
		}
	}
}
