package reactor

import (
	"net/netip"
	"testing"

	"github.com/gale-http/gale/httpcodec"
)

// TestParseProxyHeader: PROXY protocol v1 and v2 headers as load
// balancers send them, byte for byte, partial ones, and bad ones.
func TestParseProxyHeader(t *testing.T) {
	v2 := func(verCmd, fam byte, body ...byte) []byte {
		b := append([]byte("\r\n\r\n\x00\r\nQUIT\n"), verCmd, fam, byte(len(body)>>8), byte(len(body)))
		return append(b, body...)
	}
	v4body := []byte{203, 0, 113, 7, 10, 0, 0, 1, 0x15, 0xb3, 0, 80} // :5555 -> :80
	v6body := append(append(netip.MustParseAddr("2001:db8::7").AsSlice(), netip.MustParseAddr("2001:db8::1").AsSlice()...), 0x10, 0x92, 0, 80)
	get := "GET / HTTP/1.1\r\n\r\n"
	for _, tc := range []struct {
		name string
		in   []byte
		n    int
		src  string // "" for none
		bad  bool
	}{
		{"v1 TCP4", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n" + get), 41, "203.0.113.7:5555", false},
		{"v1 TCP6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 4242 443\r\n"), 45, "[2001:db8::7]:4242", false},
		{"v1 UNKNOWN", []byte("PROXY UNKNOWN\r\n" + get), 15, "", false},
		{"v1 UNKNOWN with addresses", []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), 35, "", false},
		{"v1 partial", []byte("PROXY TCP4 203.0.113.7 10.0."), 0, "", false},
		{"v1 partial prefix", []byte("PRO"), 0, "", false},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::7 10.0.0.1 5555 80\r\n"), 0, "", true},
		{"v1 bad port", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 65536 80\r\n"), 0, "", true},
		{"v1 leading zero port", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 080 80\r\n"), 0, "", true},
		{"v1 too many fields", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 1 2 3\r\n"), 0, "", true},
		{"v1 too few fields", []byte("PROXY TCP4 203.0.113.7\r\n"), 0, "", true},
		{"v1 no CRLF within 107 bytes", append([]byte("PROXY TCP4 "), make([]byte, 120)...), 0, "", true},
		{"v2 TCP4", append(v2(0x21, 0x11, v4body...), get...), 28, "203.0.113.7:5555", false},
		{"v2 TCP6", v2(0x21, 0x21, v6body...), 52, "[2001:db8::7]:4242", false},
		{"v2 LOCAL", v2(0x20, 0x00), 16, "", false},
		{"v2 UNSPEC", v2(0x21, 0x00), 16, "", false},
		{"v2 with TLVs", v2(0x21, 0x11, append(v4body, 0x04, 0, 1, 'x')...), 32, "203.0.113.7:5555", false},
		{"v2 partial signature", []byte("\r\n\r\n\x00\r"), 0, "", false},
		{"v2 partial body", v2(0x21, 0x11, v4body...)[:20], 0, "", false},
		{"v2 version 1", v2(0x11, 0x11, v4body...), 0, "", true},
		{"v2 bad command", v2(0x22, 0x11, v4body...), 0, "", true},
		{"v2 short address", v2(0x21, 0x11, 1, 2, 3), 0, "", true},
		{"no header", []byte(get), 0, "", true},
		{"lower case", []byte("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n"), 0, "", true},
	} {
		n, src, err := parseProxyHeader(tc.in)
		if (err != nil) != tc.bad || n != tc.n {
			t.Errorf("%s: n %d err %v, want n %d bad %v", tc.name, n, err, tc.n, tc.bad)
			continue
		}
		if got := src.String(); (tc.src == "" && src.IsValid()) || (tc.src != "" && got != tc.src) {
			t.Errorf("%s: source %s, want %q", tc.name, got, tc.src)
		}
	}
}

// TestForwardedClient: X-Forwarded-For walked from the right past trusted
// proxies, across several field lines; a forged left part never wins
// while an untrusted address stands right of it.
func TestForwardedClient(t *testing.T) {
	l := &loop{s: &Server{cfg: Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")},
		RealIPHeader:   "X-Forwarded-For",
	}}}
	for _, tc := range []struct {
		name  string
		lines []string
		want  string // "" for none
	}{
		{"one hop", []string{"198.51.100.1"}, "198.51.100.1"},
		{"forged left", []string{"6.6.6.6, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"all trusted", []string{"10.1.1.1, 10.0.0.2"}, "10.1.1.1"},
		{"spaces, port", []string{" 198.51.100.1:4711 ,10.0.0.2 "}, "198.51.100.1"},
		{"IPv6 bracketed", []string{"[2001:db9::1]:80, 2001:db8::2"}, "2001:db9::1"},
		{"two lines", []string{"198.51.100.7", "10.0.0.3"}, "198.51.100.7"},
		{"junk stops the walk", []string{"198.51.100.1, unknown, 10.0.0.2"}, "10.0.0.2"},
		{"junk only", []string{"unknown"}, ""},
		{"empty elements", []string{", ,198.51.100.1,,"}, "198.51.100.1"},
	} {
		var hs []string
		for _, v := range tc.lines {
			hs = append(hs, "X-Forwarded-For: "+v)
		}
		req := parseTestRequest(t, hs...)
		a, ok := l.forwardedClient(req)
		if got := a.String(); (tc.want == "") == ok || (ok && got != tc.want) {
			t.Errorf("%s: %v %v, want %q", tc.name, got, ok, tc.want)
		}
	}
}

func parseTestRequest(t *testing.T, headers ...string) *httpcodec.Request {
	t.Helper()
	raw := "GET / HTTP/1.1\r\nHost: x\r\n"
	for _, h := range headers {
		raw += h + "\r\n"
	}
	raw += "\r\n"
	var p httpcodec.Parser
	p.Limits = httpcodec.DefaultLimits()
	req := new(httpcodec.Request)
	if _, err := p.Parse([]byte(raw), req); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestConnLimitTable(t *testing.T) {
	cl := NewConnLimit(2, 64, 503)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i, want := range []bool{true, true, false} {
		if ok, _ := cl.acquire(a); ok != want {
			t.Fatalf("connection %d of a: %v", i+1, ok)
		}
	}
	if ok, counted := cl.acquire(b); !ok || !counted {
		t.Fatal("b is refused")
	}
	cl.release(a)
	if ok, _ := cl.acquire(a); !ok {
		t.Fatal("a released one and is still refused")
	}
	// A flood of addresses never grows the table; those without a free
	// slot are admitted uncounted.
	uncounted := 0
	for i := range 5000 {
		ok, counted := cl.acquire(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		if !ok {
			t.Fatal("a new address refused")
		}
		if !counted {
			uncounted++
		}
	}
	if uncounted == 0 {
		t.Fatal("5000 addresses all counted in a table of 64")
	}
}

func TestWithStatus(t *testing.T) {
	for _, tc := range []struct {
		in     string
		status int
		want   string
	}{
		{"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", 404, "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"},
		{"HTTP/1.1 200 Everything Is Fine Here\r\nX: y\r\n", 502, "HTTP/1.1 502 Bad Gateway\r\nX: y\r\n"},
		{"HTTP/1.1 200 OK\r\n", 503, "HTTP/1.1 503 Service Unavailable\r\n"},
	} {
		for _, spare := range []int{0, 256} { // growing in place or not
			b := append(make([]byte, 0, len(tc.in)+spare), tc.in...)
			if got := string(withStatus(b, tc.status)); got != tc.want {
				t.Errorf("%q with %d (spare %d): %q, want %q", tc.in, tc.status, spare, got, tc.want)
			}
		}
	}
}
