package config

import (
	"strings"
	"testing"
)

// TestProxyErrors: protocol: http upstreams and proxy locations are checked
// at their place in the file.
func TestProxyErrors(t *testing.T) {
	ups := "upstreams:\n  app: {backends: [127.0.0.1:8000], protocol: http}\n  php: {backends: [unix:/s]}\n"
	loc := func(body string) string {
		return ups + "vhosts:\n  - root: www\n    locations:\n      - prefix: /\n" + body
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"bad protocol", "upstreams:\n  app: {backends: [127.0.0.1:1], protocol: gopher}\n", `:2:44: upstreams.app.protocol: "gopher" is not one of fastcgi, scgi, uwsgi, http`},
		{"proxy to fastcgi", loc("        proxy: {upstream: php}\n"), `:8:27: vhosts[0].locations[0].proxy.upstream: "php" speaks fastcgi; a proxy needs protocol: http`},
		{"fastcgi to http", loc("        fastcgi: {upstream: app}\n"), `:8:29: vhosts[0].locations[0].fastcgi.upstream: "app" speaks http`},
		{"unknown upstream", loc("        proxy: {upstream: nope}\n"), `:8:27: vhosts[0].locations[0].proxy.upstream: no upstream named "nope"`},
		{"both", loc("        proxy: {upstream: app}\n        fastcgi: {upstream: php}\n"), `:8:16: vhosts[0].locations[0].proxy: proxy, fastcgi and cgi are exclusive`},
		{"files without root", ups + "vhosts:\n  - locations:\n      - prefix: /\n        proxy: {upstream: app, files: true}\n", `vhosts[0].locations[0].root: missing`},
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
	good := ups + "vhosts:\n  - default: true\n    locations:\n      - prefix: /\n        proxy: {upstream: app}\n  - names: [b.example]\n    root: www\n    locations:\n      - {prefix: /, proxy: {upstream: app, files: true}}\n"
	if errs := check(t, good); errs != nil {
		t.Errorf("good proxy: %q", errs)
	}
}

func TestSetProxy(t *testing.T) {
	c := Default()
	c.SetRoot("/srv")
	if err := c.SetProxy("127.0.0.1:8000, unix:/run/app.sock", true); err != nil {
		t.Fatal(err)
	}
	u := c.Upstreams["app"]
	vh := c.VHosts[c.DefaultVHost()]
	if u == nil || u.Protocol != "http" || len(u.Backends) != 2 || len(vh.Locations) != 1 ||
		vh.Locations[0].Proxy == nil || vh.Locations[0].Proxy.Upstream != "app" || !vh.Locations[0].Proxy.Files {
		t.Fatalf("%+v %+v", u, vh.Locations)
	}
}
