package handlers

import "testing"

func TestVHostsLookup(t *testing.T) {
	var v VHosts
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.Add(named("example"), "example.com", "www.Example.com"))
	must(v.Add(named("wild"), "*.example.com"))
	must(v.Add(named("deep"), "*.api.example.com"))
	must(v.Add(named("v6"), "[::1]"))
	v.SetDefault(named("default"))
	for host, want := range map[string]string{
		"example.com":             "example",
		"EXAMPLE.COM":             "example",
		"example.com:8080":        "example",
		"example.com.":            "example",
		"www.example.com":         "example", // exact beats wildcard
		"a.example.com":           "wild",
		"a.b.example.com":         "wild",
		"x.api.example.com":       "deep", // the longest wildcard wins
		"api.example.com":         "wild",
		"[::1]:80":                "v6",
		"notexample.com":          "default",
		"example.org":             "default",
		"":                        "default",
		":80":                     "default",
		"com":                     "default",
		string(make([]byte, 300)): "default",
	} {
		if got := v.Lookup([]byte(host)); got != named(want) {
			t.Errorf("Lookup(%.40q) = %v, want %s", host, got, want)
		}
	}
	if err := v.Add(named("x"), "EXAMPLE.com"); err == nil {
		t.Error("a name given twice (differing in case) was accepted")
	}
	for _, bad := range []string{"*", "*example.com", "a.*.com", ""} {
		if err := v.Add(named("x"), bad); err == nil {
			t.Errorf("bad name %q accepted", bad)
		}
	}
	var none VHosts
	must(none.Add(named("only"), "only.test"))
	if h := none.Lookup([]byte("other.test")); h != nil {
		t.Errorf("no default: got %v, want nil (404)", h)
	}
}
