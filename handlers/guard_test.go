package handlers

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/bcrypt"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

var aliceAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:open sesame"))

func testAuth(t testing.TB) *BasicAuth {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("open sesame"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte("# users\n\nalice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := LoadBasicAuth("members", file)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestBasicAuth(t *testing.T) {
	a := testAuth(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{aliceAuth, true},
		{aliceAuth, true}, // from the cache
		{"basic " + b64("alice:open sesame"), true},
		{"", false},
		{"Basic " + b64("alice:open sesam"), false},
		{"Basic " + b64("bob:open sesame"), false},
		{"Basic " + b64("alice"), false},
		{"Basic !!!", false},
		{"Bearer x", false},
		{"Basic " + b64("alice:"+strings.Repeat("x", 400)), false},
	} {
		var hs []string
		if tc.header != "" {
			hs = append(hs, "Authorization: "+tc.header)
		}
		if got := a.Check(parseReq(t, "GET", "/", hs...)); got != tc.ok {
			t.Errorf("%q: %v, want %v", tc.header, got, tc.ok)
		}
	}
	r := serve(t, &Location{Handler: newStatic(t, t.TempDir(), nil), Auth: a}, "GET", "/")
	if r.resp.Status != 401 || header(r.head, "WWW-Authenticate") != `Basic realm="members", charset="UTF-8"` {
		t.Errorf("refusal: %d %q", r.resp.Status, r.head)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{
		"sha":   "alice:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n",
		"empty": "# nobody\n",
		"colon": "alice\n",
	} {
		file := filepath.Join(dir, name)
		os.WriteFile(file, []byte(text), 0o600)
		if _, err := LoadBasicAuth("x", file); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func TestRateLimit(t *testing.T) {
	now := int64(1_000_000)
	rl := NewRateLimit(2, 3, 64, 503) // 2 r/s, burst 3
	rl.now = func() int64 { return now }
	allow := func(a netip.Addr) bool { ok, _ := rl.Allow(a); return ok }
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	// Paced: the first at once, the burst each half a second (2 r/s)
	// further, then refused.
	var waits []time.Duration
	var oks []bool
	for range 6 {
		ok, wait := rl.Allow(a)
		oks, waits = append(oks, ok), append(waits, wait)
	}
	if want := []bool{true, true, true, true, false, false}; !equalBools(oks, want) {
		t.Fatalf("burst: %v, want %v", oks, want)
	}
	if want := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 0, 0}; fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	if !allow(b) {
		t.Fatal("another address shares the bucket")
	}
	now += 500 // half a second drains one request at 2 r/s
	if !allow(a) || allow(a) {
		t.Fatal("after 500 ms: want one more request, not two")
	}
	rl.NoDelay = true
	now += 2000
	for i := range 4 {
		if ok, wait := rl.Allow(a); !ok || wait != 0 {
			t.Fatalf("nodelay, request %d: %v %v", i, ok, wait)
		}
	}
	// Memory is fixed: a flood of addresses only recycles slots.
	for i := range 10000 {
		rl.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	n := 0
	for i := range rl.shards {
		n += len(rl.shards[i].slots)
	}
	if n > 64+len(rl.shards)*limitWays {
		t.Fatalf("%d slots for a table of 64", n)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDynCompressChoice(t *testing.T) {
	both := &DynCompress{Gzip: true, Zstd: true}
	gz := &DynCompress{Gzip: true}
	for _, tc := range []struct {
		dc   *DynCompress
		ae   string
		want Coding
	}{
		{both, "", CodingIdentity},
		{both, "gzip", CodingGzip},
		{both, "gzip, zstd", CodingZstd},
		{both, "zstd;q=0.1, gzip", CodingGzip},
		{both, "gzip;q=0, zstd;q=0", CodingIdentity},
		{both, "*", CodingZstd},
		{both, "*;q=0", CodingIdentity},
		{both, "identity;q=1, gzip;q=0.5", CodingIdentity},
		{gz, "zstd", CodingIdentity},
		{gz, "zstd, gzip;q=0.2", CodingGzip},
		{both, "br, deflate", CodingIdentity},
		{both, "x-gzip", CodingGzip},
	} {
		if got := tc.dc.Choose([]byte(tc.ae)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.ae, got, tc.want)
		}
	}
}

func TestDynCompressApplies(t *testing.T) {
	dc := &DynCompress{Types: []string{"text/html", "application/json", "text/*"}, MinLength: 100}
	head := func(lines ...string) []byte {
		return []byte("HTTP/1.1 200 OK\r\n" + strings.Join(lines, "\r\n") + "\r\n")
	}
	for _, tc := range []struct {
		name   string
		status int
		head   []byte
		n      int64
		want   bool
	}{
		{"html", 200, head("Content-Type: text/html; charset=UTF-8"), -1, true},
		{"case", 200, head("content-type: TEXT/HTML"), 500, true},
		{"wildcard", 200, head("Content-Type: text/csv"), -1, true},
		{"json", 201, head("Content-Type: application/json"), -1, true},
		{"short", 200, head("Content-Type: text/html"), 99, false},
		{"png", 200, head("Content-Type: image/png"), -1, false},
		{"no type", 200, head("X-A: b"), -1, false},
		{"encoded", 200, head("Content-Type: text/html", "Content-Encoding: br"), -1, false},
		{"range", 200, head("Content-Type: text/html", "Content-Range: bytes 0-1/2"), -1, false},
		{"206", 206, head("Content-Type: text/html"), -1, false},
		{"no-transform", 200, head("Content-Type: text/html", "Cache-Control: private, No-Transform"), -1, false},
		{"204", 204, head("Content-Type: text/html"), -1, false},
		{"404", 404, head("Content-Type: text/html"), -1, false},
	} {
		if got := dc.Applies(tc.status, tc.head, tc.n); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAppendCoding(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nX: y\r\n", "HTTP/1.1 200 OK\r\nETag: W/\"abc\"\r\nX: y\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"},
		{"HTTP/1.1 200 OK\r\netag: W/\"abc\"\r\n", "HTTP/1.1 200 OK\r\netag: W/\"abc\"\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"},
		{"HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"},
	} {
		if got := string(AppendCoding([]byte(tc.in), CodingGzip)); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// TestStreamEncoder: each Write's output decodes, with what came before,
// to everything written so far (a client can render a stream as it
// comes), and a reused encoder starts a fresh stream.
func TestStreamEncoder(t *testing.T) {
	parts := [][]byte{bytes.Repeat([]byte("alpha "), 500), []byte("beta"), bytes.Repeat([]byte("gamma "), 3000)}
	for _, c := range []Coding{CodingGzip, CodingZstd} {
		for round := range 2 {
			e := AcquireEncoder(c)
			var stream, want []byte
			for _, p := range parts {
				stream = append(stream, e.Write(p)...)
				want = append(want, p...)
				if got := decodePrefix(t, c, stream, len(want)); !bytes.Equal(got, want) {
					t.Fatalf("%s round %d: after %d bytes the flushed stream decodes to %d", c, round, len(want), len(got))
				}
			}
			stream = append(stream, e.Close()...)
			e.Release()
			if got := decodeAll(t, c, stream); !bytes.Equal(got, want) {
				t.Fatalf("%s round %d: whole stream differs", c, round)
			}
		}
		e := AcquireEncoder(c)
		whole := append([]byte(nil), e.Whole(parts[0])...)
		e.Release()
		if !bytes.Equal(decodeAll(t, c, whole), parts[0]) {
			t.Fatalf("%s: Whole differs", c)
		}
	}
}

func decodePrefix(t *testing.T, c Coding, b []byte, n int) []byte {
	t.Helper()
	r := decoder(t, c, b)
	out := make([]byte, n)
	k, err := io.ReadFull(r, out)
	if err != nil {
		t.Fatalf("%s: %d of %d bytes decoded: %v", c, k, n, err)
	}
	return out
}

func decodeAll(t *testing.T, c Coding, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(decoder(t, c, b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func decoder(t *testing.T, c Coding, b []byte) io.Reader {
	t.Helper()
	if c == CodingGzip {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r, err := zstd.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestErrorPages: a page replaces the error with the error's status; a
// 401 page still carries the challenge; a page that cannot be served
// leaves the error as it was; a 413 keeps its Connection: close.
func TestErrorPages(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "401.html", "who are you")
	writeFile(t, root, "404.html", "nothing here")
	writeFile(t, root, "x.txt", "x")
	s := newStatic(t, root, nil)
	var rt Router
	pages := NewErrorPages(map[int]string{401: "/401.html", 404: "/404.html", 403: "/missing.html", 413: "/404.html"}, rt.Internal())
	l := &Location{Handler: s, Errors: pages, Auth: testAuth(t), MaxBody: 10}
	rt.Handle("/", l)
	for _, tc := range []struct {
		name, method, target string
		headers              []string
		status               int
		body                 string
		close                bool
	}{
		{"401 page", "GET", "/x.txt", nil, 401, "who are you", false},
		{"404 page", "GET", "/none", []string{"Authorization: " + aliceAuth}, 404, "nothing here", false},
		{"404 page, HEAD", "HEAD", "/none", []string{"Authorization: " + aliceAuth}, 404, "", false},
		{"413 page keeps close", "POST", "/x.txt", []string{"Authorization: " + aliceAuth, "Content-Length: 11"}, 413, "nothing here", true},
		{"served", "GET", "/x.txt", []string{"Authorization: " + aliceAuth}, 200, "x", false},
	} {
		r := serve(t, &rt, tc.method, tc.target, tc.headers...)
		if r.resp.Status != tc.status || r.body != tc.body || r.resp.Close != tc.close || !strings.HasPrefix(r.head, "HTTP/1.1 "+itoa(tc.status)+" ") {
			t.Errorf("%s: %d %q close %v, head %q", tc.name, r.resp.Status, r.body, r.resp.Close, r.head)
		}
		if tc.status == 401 && header(r.head, "WWW-Authenticate") == "" {
			t.Errorf("%s: no challenge: %q", tc.name, r.head)
		}
	}
	// A page that is no file goes to the application its path routes
	// to, asked for the page, with the error's status.
	u := &upstream.Upstream{Name: "app"}
	rt.Handle("/app/", NewProxy(u, nil))
	pages.App = &rt
	pages.pages = append(pages.pages, errorPage{410, []byte("/app/gone")})
	l.Handler = handlerFunc(func(ctx *Ctx, req *httpcodec.Request, resp *Response) { errorFor(ctx, req, resp, 410) })
	r := serve(t, &rt, "GET", "/x.txt", "Authorization: "+aliceAuth)
	if r.resp.Upstream == nil || r.resp.Upstream.Upstream != u || r.resp.Upstream.ErrorStatus != 410 || string(r.resp.Upstream.Target) != "/app/gone" {
		t.Errorf("page from the application: %+v", r.resp.Upstream)
	}
	if r = serve(t, &rt, "POST", "/x.txt", "Authorization: "+aliceAuth); r.resp.Upstream != nil || r.resp.Status != 410 {
		t.Errorf("POST: a page from the application: %d %+v", r.resp.Status, r.resp.Upstream)
	}
	l.Handler = s
	// A page that is not there: the plain error stays.
	l.DenyAll = true
	r = serve(t, &rt, "GET", "/x.txt")
	if r.resp.Status != 403 || r.body != "403 Forbidden\n" {
		t.Errorf("missing page: %d %q", r.resp.Status, r.body)
	}
}

// handlerFunc adapts a function to Handler, for tests.
type handlerFunc func(ctx *Ctx, req *httpcodec.Request, resp *Response)

func (f handlerFunc) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) { f(ctx, req, resp) }
