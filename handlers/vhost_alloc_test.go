//go:build !race

package handlers

import "testing"

// TestVHostsLookupAllocs: choosing a vhost allocates nothing, for exact,
// wildcard and default matches alike.
func TestVHostsLookupAllocs(t *testing.T) {
	var v VHosts
	if err := v.Add(named("a"), "example.com"); err != nil {
		t.Fatal(err)
	}
	if err := v.Add(named("w"), "*.example.com"); err != nil {
		t.Fatal(err)
	}
	v.SetDefault(named("d"))
	for _, host := range []string{"Example.COM:8080", "a.b.example.com", "unknown.test:80"} {
		h := []byte(host)
		if n := testing.AllocsPerRun(1000, func() { _ = v.Lookup(h) }); n != 0 {
			t.Errorf("Lookup(%q): %.1f allocations per lookup, want 0", host, n)
		}
	}
}
