//go:build !race

package reactor

import (
	"net/netip"
	"testing"
)

// TestRealIPAllocs: finding the client behind trusted proxies and reading
// a PROXY header allocate nothing.
func TestRealIPAllocs(t *testing.T) {
	l := &loop{s: &Server{cfg: Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		RealIPHeader:   "X-Forwarded-For",
	}}}
	req := parseTestRequest(t, "X-Forwarded-For: 6.6.6.6, 2001:db8::9, 10.0.0.2")
	v1 := []byte("PROXY TCP6 2001:db8::7 2001:db8::1 4242 443\r\n")
	if allocs := testing.AllocsPerRun(200, func() {
		if a, ok := l.forwardedClient(req); !ok || !a.Is6() {
			t.Fatal("no client")
		}
		if _, _, err := parseProxyHeader(v1); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}
