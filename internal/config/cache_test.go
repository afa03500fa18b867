package config

import (
	"strings"
	"testing"
	"time"
)

// TestLocationCache: a location's cache block is decoded with its
// defaults and checked at its place in the file.
func TestLocationCache(t *testing.T) {
	ups := "upstreams:\n  app: {backends: [127.0.0.1:8000], protocol: http}\n"
	loc := func(body string) string {
		return ups + "vhosts:\n  - root: www\n    locations:\n" + body
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"static location", loc("      - prefix: /\n        cache: {}\n"), `vhosts[0].locations[0].cache: only a fastcgi, proxy or cgi location`},
		{"bad tag header", loc("      - prefix: /\n        proxy: {upstream: app}\n        cache: {tag_header: \"a b\"}\n"), `vhosts[0].locations[0].cache.tag_header: bad header name "a b"`},
		{"bad cookie", loc("      - prefix: /\n        proxy: {upstream: app}\n        cache: {bypass_cookies: [\"a;b*\"]}\n"), `vhosts[0].locations[0].cache.bypass_cookies: bad cookie name "a;b*"`},
		{"bad ttl", loc("      - prefix: /\n        proxy: {upstream: app}\n        cache: {ttl: 5}\n"), `bad duration "5"`},
		{"zero lock", loc("      - prefix: /\n        proxy: {upstream: app}\n        cache: {lock_timeout: 0s}\n"), `cache.lock_timeout: must be positive`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := check(t, tc.text)
			for _, e := range errs {
				if strings.Contains(e, tc.want) {
					return
				}
			}
			t.Errorf("want an error with %q, got %q", tc.want, errs)
		})
	}
	good := loc("      - prefix: /\n        proxy: {upstream: app}\n        cache: {ttl: 1s, bypass_cookies: [wordpress, sessionid], tag_header: Surrogate-Key}\n")
	if errs := check(t, good); errs != nil {
		t.Fatalf("good cache: %q", errs)
	}
	c, err := Parse("t.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	lc := c.VHosts[0].Locations[0].Cache
	if lc.TTL.D() != time.Second || lc.LockTimeout.D() != 5*time.Second || lc.HitForMiss.D() != 10*time.Second ||
		lc.CDNCacheControl == nil || !*lc.CDNCacheControl || len(lc.BypassCookies) != 2 || c.Cache.Responses != 256<<20 {
		t.Fatalf("decoded %+v, responses %d", lc, c.Cache.Responses)
	}
}
