package config

import (
	"strings"
	"testing"
)

// TestSiteRulesErrors: each site rule's mistakes are reported at their
// place in the file.
func TestSiteRulesErrors(t *testing.T) {
	loc := func(body string) string {
		return "upstreams: {php: {backends: [unix:/s]}}\nvhosts:\n  - root: www\n    locations:\n      - prefix: /x/\n" + body
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"bad CIDR", loc("        deny: [10.0.0.0/33]\n"), `:6:16: vhosts[0].locations[0].deny[0]: bad CIDR "10.0.0.0/33"`},
		{"host bits", loc("        allow: [10.0.0.1/8]\n"), `:6:17: vhosts[0].locations[0].allow[0]: bad CIDR "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)`},
		{"allow all", loc("        allow: [all]\n"), `:6:17: vhosts[0].locations[0].allow[0]: bad address "all"`},
		{"bad header name", loc("        headers: {set: {\"X Bad\": v}}\n"), `:6:34: vhosts[0].locations[0].headers.set.X Bad: bad header name`},
		{"gale's header", loc("        headers: {remove: [Content-Length]}\n"), `:6:28: vhosts[0].locations[0].headers.remove[0]: Content-Length is gale's own header`},
		{"header injection", loc("        headers: {add: {X-A: \"a\\r\\nSet-Cookie: x\"}}\n"), `:6:30: vhosts[0].locations[0].headers.add.X-A: bad header value`},
		{"bad expires", loc("        expires: 1 year\n"), `:6:18: vhosts[0].locations[0].expires: bad age "1 year"`},
		{"alias with fastcgi", loc("        alias: www\n        fastcgi: {upstream: php}\n"), `:6:16: vhosts[0].locations[0].alias: static files only`},
		{"alias without slash", "vhosts:\n  - root: www\n    locations:\n      - prefix: /static\n        alias: www\n", `:5:16: vhosts[0].locations[0].alias: needs a prefix that ends with /`},
		{"alias missing", loc("        alias: nowhere\n"), `:6:16: vhosts[0].locations[0].alias: `},
		{"bad redirect", "vhosts:\n  - root: www\n    redirects:\n      - {match: \"^/(a)\", to: /$2}\n", `:4:9: vhosts[0].redirects[0]: $2 in redirect target: the match has 1 captures`},
		{"redirect status", "vhosts:\n  - root: www\n    redirects:\n      - {match: ^/, to: /x, status: 200}\n", `:4:9: vhosts[0].redirects[0]: handlers: redirect status 200`},
		{"bad refuse", loc("        fastcgi: {upstream: php, refuse: [vendor/]}\n"), `:6:43: vhosts[0].locations[0].fastcgi.refuse[0]: bad refuse pattern "vendor/"`},
		{"bad buffering", loc("        buffering: no\n"), `:6:20: vhosts[0].locations[0].buffering: "no" is not one of on, off`},
		{"mount of a front controller", loc("        fastcgi: {upstream: php, mount: /}\n"), `:6:41: vhosts[0].locations[0].fastcgi.mount: only for mode pass`},
		{"relative mount", loc("        fastcgi: {upstream: php, mode: pass, mount: x}\n"), `:6:53: vhosts[0].locations[0].fastcgi.mount: "x" must start with /`},
		{"mount below the prefix", loc("        fastcgi: {upstream: php, mode: pass, mount: /x/y}\n"), `:6:53: vhosts[0].locations[0].fastcgi.mount: "/x/y" must be the location's prefix or a path above it`},
		{"mount beside the prefix", loc("        fastcgi: {upstream: php, mode: pass, mount: /xy}\n"), `:6:53: vhosts[0].locations[0].fastcgi.mount: "/xy" must be`},
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
	// A location that only denies needs no root; a good file is accepted.
	if errs := check(t, "vhosts:\n  - locations:\n      - {prefix: /, deny: [all]}\n"); errs != nil {
		t.Errorf("deny-only location: %q", errs)
	}
	good := loc(`        alias: www
        follow_symlinks_outside: true
        internal: true
        deny: [10.0.0.5, "2001:db8::/32"]
        allow: [10.0.0.0/8, 127.0.0.1]
        headers: {set: {X-Frame-Options: DENY}, add: {Link: "</a.css>; rel=preload"}, remove: [ETag]}
        expires: 365d
        buffering: "off"
      - prefix: /
        fastcgi: {upstream: php, refuse: ["*.inc", /inc/, wp-config-sample.php], refuse_defaults: false}
      - prefix: /x/y/
        fastcgi: {upstream: php, mode: pass, mount: /x}
        buffering: on
`)
	if errs := check(t, good); errs != nil {
		t.Errorf("good rules: %q", errs)
	}
}

func TestParseAge(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "90s": 90, "30m": 1800, "12h": 43200, "365d": 31536000, "1y": 31536000} {
		if got, err := ParseAge(s); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "d", "-1d", "1w", "101y", "1.5h", "9223372036854775807s"} {
		if _, err := ParseAge(s); err == nil {
			t.Errorf("ParseAge(%q) accepted", s)
		}
	}
}
