package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuardErrors: each guard's mistakes are reported at their place in
// the file by gale -t.
func TestGuardErrors(t *testing.T) {
	md5 := filepath.Join(t.TempDir(), "md5.htpasswd")
	if err := os.WriteFile(md5, []byte("bob:$apr1$Wy3Ks1Gd$fZ7cVvT5XH/ftrUM7aGBX.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loc := func(body string) string {
		return "upstreams: {php: {backends: [unix:/s]}}\nvhosts:\n  - root: www\n    locations:\n      - prefix: /x/\n" + body
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"bad rate", loc("        limit_req: {rate: 10/s}\n"), `:6:27: vhosts[0].locations[0].limit_req.rate: bad rate "10/s"`},
		{"rate status", loc("        limit_req: {rate: 1r/s, status: 500}\n"), `:6:41: vhosts[0].locations[0].limit_req.status: want 503 or 429, got 500`},
		{"negative burst", loc("        limit_req: {rate: 1r/s, burst: -1}\n"), `:6:40: vhosts[0].locations[0].limit_req.burst: must be 0 or more`},
		{"error page status", loc("        error_pages: {200: /x.html}\n"), `:6:22: vhosts[0].locations[0].error_pages: "200": want a status from 400 to 599`},
		{"error page path", loc("        error_pages: {404: x.html}\n"), `:6:22: vhosts[0].locations[0].error_pages: 404: want a path like /50x.html`},
		{"coding", loc("        compress: {codings: [br]}\n"), `:6:30: vhosts[0].locations[0].compress.codings[0]: want gzip or zstd, got "br"`},
		{"media type", loc("        compress: {types: [html]}\n"), `:6:28: vhosts[0].locations[0].compress.types[0]: bad media type "html"`},
		{"no user file", loc("        auth: {user_file: nowhere}\n"), `:6:27: vhosts[0].locations[0].auth: open `},
		{"not bcrypt", loc("        auth: {user_file: " + md5 + "}\n"), `:6:27: vhosts[0].locations[0].auth: ` + md5 + `:1: user "bob": not a bcrypt hash (make one with htpasswd -B)`},
		{"real_ip CIDR", "real_ip: {from: [10.0.0.0/40]}\nvhosts: [{root: www}]\n", `:1:18: real_ip.from[0]: bad CIDR "10.0.0.0/40"`},
		{"real_ip empty", "real_ip: {header: X-Real-IP}\nvhosts: [{root: www}]\n", `:1:10: real_ip.from: list the trusted proxies`},
		{"limit_conn max", "limit_conn: {max: 0}\nvhosts: [{root: www}]\n", `:1:19: limit_conn.max: must be positive`},
		{"max_body", loc("        max_body: lots\n"), `:6:19: vhosts[0].locations[0].max_body: bad size "lots"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := check(t, tc.text)
			for _, e := range errs {
				if strings.HasPrefix(e, tc.want) {
					return
				}
			}
			t.Errorf("want an error starting %q, got %q", tc.want, errs)
		})
	}
}

func TestParseRate(t *testing.T) {
	for s, want := range map[string]float64{"10r/s": 10, "30r/m": 0.5, "0.5r/s": 0.5} {
		if got, err := ParseRate(s); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "10", "10r", "r/s", "0r/s", "-1r/s", "10r/h"} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q): no error", s)
		}
	}
}

func TestMaxBodyCeiling(t *testing.T) {
	c := &Config{Limits: Limits{MaxBody: 1 << 20}, VHosts: []*VHost{{Locations: []*Location{{MaxBody: 64 << 20}, {MaxBody: 1 << 10}, nil}}, nil}}
	if got := c.MaxBodyCeiling(); got != 64<<20 {
		t.Errorf("ceiling %d, want 64 MiB", got)
	}
}
