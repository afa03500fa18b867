package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/bcrypt"

	"github.com/gale-http/gale/internal/testenv"
)

// guardSite is what TestSiteGuards and TestProxyProtocol share: a PHP
// application on real php-fpm, a Go net/http application over HTTP, and
// the files of the vhost.
type guardSite struct {
	dir     string
	fpm     *testenv.PHPFPM
	app     *httptest.Server
	release chan struct{} // lets /app/stream finish
	hold    chan struct{} // lets /app/wait finish
	page    []byte        // what /app/page sends
}

func newGuardSite(t *testing.T) *guardSite {
	t.Helper()
	s := &guardSite{dir: t.TempDir(), release: make(chan struct{}), hold: make(chan struct{})}
	s.fpm = testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	var page bytes.Buffer
	for i := range 600 {
		fmt.Fprintf(&page, "<li class=\"post\"><a href=\"/post/%d/\">Post number %d</a> by admin</li>\n", i, i*7%1000)
	}
	s.page = page.Bytes()
	s.app = httptest.NewServer(http.HandlerFunc(s.serveApp))
	t.Cleanup(s.app.Close)
	for name, body := range map[string]string{
		// A WordPress-sized home page (about 28 KB of HTML).
		"www/wp.php":            `<?php header("Content-Type: text/html; charset=UTF-8"); for ($i = 0; $i < 400; $i++) { echo "<article id=\"post-$i\"><h2>Hello world $i</h2><p>Welcome to WordPress.</p></article>\n"; }`,
		"www/addr.php":          `<?php echo $_SERVER["REMOTE_ADDR"];`,
		"www/notfound.php":      `<?php echo "app page for ", $_SERVER["REQUEST_URI"];`,
		"www/docs/a.txt":        "a",
		"www/index.html":        "home",
		"www/errors/404.html":   "<h1>custom not found</h1>",
		"www/errors/50x.html":   "<h1>custom backend error</h1>",
		"www/private/note.txt":  "for members",
		"www/private/index.txt": "x",
	} {
		writeFile(t, s.dir, name, body)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret pass"), bcrypt.MinCost)
	check(t, err)
	writeFile(t, s.dir, "htpasswd", "# members\nalice:"+string(hash)+"\n")
	return s
}

// serveApp is the Go application behind the http upstream.
func (s *guardSite) serveApp(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/app/page":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"v1"`)
		w.Write(s.page)
	case "/app/stream":
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Accel-Buffering", "no")
		w.Write(streamPart1)
		w.(http.Flusher).Flush()
		select {
		case <-s.release:
		case <-time.After(5 * time.Second):
		}
		w.Write(streamPart2)
	case "/app/wait":
		select {
		case <-s.hold:
		case <-time.After(5 * time.Second):
		}
		w.Write([]byte("waited"))
	case "/app/sorry":
		fmt.Fprintf(w, "sorry page for %s", r.URL.RequestURI())
	case "/app/encoded":
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(s.page))
	case "/app/small":
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(strings.Repeat("x", 100)))
	case "/app/png":
		w.Header().Set("Content-Type", "image/png")
		w.Write(bytes.Repeat([]byte("PNG."), 2000))
	default:
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "xff=%s;proto=%s;len=%d", r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), n)
	}
}

var (
	streamPart1 = bytes.Repeat([]byte("<p>first part, sent at once</p>\n"), 64)
	streamPart2 = bytes.Repeat([]byte("<p>second part, after the release</p>\n"), 64)
)

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestSiteGuards runs gale from a configuration with every guard of issue
// 16 item 15 and 16 in front of real php-fpm and a Go net/http
// application, and checks each over the wire with Go's client, curl and
// raw sockets: compression of dynamic responses, per-location max_body,
// error pages, basic auth, limit_req, and the client address from trusted
// proxies (X-Forwarded-For, kept and extended for the HTTP upstream).
func TestSiteGuards(t *testing.T) {
	s := newGuardSite(t)
	dead := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := writeFile(t, s.dir, "gale.yaml", fmt.Sprintf(`
limits: {max_body: 4KiB}
real_ip: {from: [127.0.0.1, 10.0.0.0/8]}
upstreams:
  php: {backends: [%q]}
  app: {protocol: http, backends: [%q]}
  dead: {protocol: http, backends: [%q], timeouts: {connect: 1s}}
vhosts:
  - root: www
    error_pages: {404: /errors/404.html, 502: /errors/50x.html}
    compress: {min_length: 256}
    locations:
      - prefix: /
      - ext: [.php]
        fastcgi: {upstream: php}
      - prefix: /app/
        proxy: {upstream: app}
      - prefix: /dead/
        proxy: {upstream: dead}
      - prefix: /upload/
        proxy: {upstream: app}
        max_body: 1KiB
      - prefix: /big/
        proxy: {upstream: app}
        max_body: 64KiB
      - prefix: /private/
        auth: {realm: gale test, user_file: htpasswd}
      - prefix: /api/
        proxy: {upstream: app}
        limit_req: {rate: 1r/m, burst: 2, status: 429, nodelay: true}
      - prefix: /paced/
        proxy: {upstream: app}
        limit_req: {rate: 5r/s, burst: 3}
      - prefix: /api503/
        proxy: {upstream: app}
        limit_req: {rate: 1r/m}
      - prefix: /plain/
        proxy: {upstream: app}
        compress: {enabled: false}
      - prefix: /docs/
        error_pages: {404: /notfound.php}
      - prefix: /docs2/
        error_pages: {404: /app/sorry}
`, s.fpm.Addr(), s.app.Listener.Addr().String(), dead))
	if out, err := exec.Command(galeBin, "-t", "-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := startGale(t, "-config", cfg, "-loops", "2")
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	do := func(method, path string, hdr map[string]string, body io.Reader, n int64) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, p.url(path), body)
		check(t, err)
		req.ContentLength = n
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		check(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		check(t, err)
		return resp, b
	}

	t.Run("compress/php", func(t *testing.T) {
		plain, identity := do("GET", "/wp.php", nil, nil, 0)
		if plain.StatusCode != 200 || plain.Header.Get("Content-Encoding") != "" || len(identity) < 20000 {
			t.Fatalf("identity: %d %q, %d bytes", plain.StatusCode, plain.Header.Get("Content-Encoding"), len(identity))
		}
		if plain.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("identity response: Vary %q, want Accept-Encoding", plain.Header.Get("Vary"))
		}
		for _, tc := range []struct{ ae, want string }{
			{"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip, deflate, br, zstd", "zstd"},
			{"zstd;q=0.5, gzip", "gzip"}, {"gzip;q=0", ""}, {"identity", ""}, {"br", ""},
		} {
			resp, body := do("GET", "/wp.php", map[string]string{"Accept-Encoding": tc.ae}, nil, 0)
			if got := resp.Header.Get("Content-Encoding"); got != tc.want {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.ae, got, tc.want)
				continue
			}
			if tc.want == "" {
				if !bytes.Equal(body, identity) {
					t.Errorf("Accept-Encoding %q: body differs from identity", tc.ae)
				}
				continue
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s: Vary %q", tc.want, resp.Header.Get("Vary"))
			}
			if got := decode(t, tc.want, body); !bytes.Equal(got, identity) {
				t.Errorf("%s: decodes to %d bytes unlike the %d the application sent", tc.want, len(got), len(identity))
			}
			if tc.ae == "gzip" || tc.ae == "zstd" {
				t.Logf("WordPress-like page: %d bytes identity, %d %s", len(identity), len(body), tc.want)
			}
		}
		resp, body := do("HEAD", "/wp.php", map[string]string{"Accept-Encoding": "gzip"}, nil, 0)
		if resp.Header.Get("Content-Encoding") != "" || len(body) != 0 {
			t.Errorf("HEAD: Content-Encoding %q, %d body bytes", resp.Header.Get("Content-Encoding"), len(body))
		}
	})

	t.Run("compress/http", func(t *testing.T) {
		gz := map[string]string{"Accept-Encoding": "gzip"}
		resp, body := do("GET", "/app/page", gz, nil, 0)
		if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(decode(t, "gzip", body), s.page) {
			t.Fatalf("page: %q, %d bytes", resp.Header.Get("Content-Encoding"), len(body))
		}
		if resp.Header.Get("ETag") != `W/"v1"` {
			t.Errorf("compressed ETag %q, want the weak W/\"v1\"", resp.Header.Get("ETag"))
		}
		// Already encoded by the application: passed as it is.
		resp, body = do("GET", "/app/encoded", gz, nil, 0)
		if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, gzipped(s.page)) {
			t.Errorf("encoded by the app: %q, %d bytes", resp.Header.Get("Content-Encoding"), len(body))
		}
		for path, why := range map[string]string{"/app/small": "below min_length", "/app/png": "not a listed type"} {
			resp, _ := do("GET", path, gz, nil, 0)
			if resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("%s (%s): Content-Encoding %q", path, why, resp.Header.Get("Content-Encoding"))
			}
		}
		resp, body = do("GET", "/app/page", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-99"}, nil, 0)
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("range request: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
		}
		resp, _ = do("GET", "/plain/page", gz, nil, 0)
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("compress: {enabled: false}: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
		}
	})

	t.Run("compress/streaming", func(t *testing.T) {
		req, err := http.NewRequest("GET", p.url("/app/stream"), nil)
		check(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		check(t, err)
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
			t.Fatalf("stream: Content-Encoding %q, Content-Length %d, Transfer-Encoding %v", resp.Header.Get("Content-Encoding"), resp.ContentLength, resp.TransferEncoding)
		}
		zr, err := gzip.NewReader(resp.Body)
		check(t, err)
		first := make([]byte, len(streamPart1))
		got := make(chan error, 1)
		go func() { _, err := io.ReadFull(zr, first); got <- err }()
		select {
		case err := <-got:
			check(t, err)
		case <-time.After(3 * time.Second):
			t.Fatal("the first part did not arrive while the application waited")
		}
		if !bytes.Equal(first, streamPart1) {
			t.Fatal("first part differs")
		}
		close(s.release)
		rest, err := io.ReadAll(zr)
		check(t, err)
		if !bytes.Equal(rest, streamPart2) {
			t.Fatalf("second part: %d bytes, want %d", len(rest), len(streamPart2))
		}
		// An HTTP/1.0 client gets the stream delimited by the close.
		raw := rawRequest(t, p.addr, []byte("GET /app/stream HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n"))
		if raw == nil || raw.Header.Get("Content-Encoding") != "gzip" || raw.ContentLength != -1 || !raw.Close {
			t.Fatalf("HTTP/1.0 stream: %+v", raw)
		}
		b, err := io.ReadAll(raw.Body)
		check(t, err)
		if got := decode(t, "gzip", b); !bytes.Equal(got, append(append([]byte(nil), streamPart1...), streamPart2...)) {
			t.Fatalf("HTTP/1.0 stream decodes to %d bytes", len(got))
		}
	})

	t.Run("max_body", func(t *testing.T) {
		for _, tc := range []struct {
			path    string
			n       int
			chunked bool
			status  int
		}{
			{"/upload/x", 2048, false, 413},
			{"/upload/x", 2048, true, 413},
			{"/upload/x", 512, false, 200},
			{"/big/x", 10 << 10, false, 200},
			{"/big/x", 10 << 10, true, 200},
			{"/app/echo", 10 << 10, false, 413}, // limits.max_body, 4KiB
			{"/app/echo", 2048, false, 200},
		} {
			n := int64(tc.n)
			if tc.chunked {
				n = -1
			}
			resp, body := do("POST", tc.path, nil, bytes.NewReader(make([]byte, tc.n)), n)
			if resp.StatusCode != tc.status || (tc.status == 200 && !strings.HasSuffix(string(body), ";len="+strconv.Itoa(tc.n))) {
				t.Errorf("POST %d bytes (chunked %v) to %s: %d %q, want %d", tc.n, tc.chunked, tc.path, resp.StatusCode, body, tc.status)
			}
		}
	})

	t.Run("error_pages", func(t *testing.T) {
		// Pages through the applications: PHP, and the HTTP one, asked
		// for the page's path; the client gets the error's status. PHP
		// runs the page's script with REQUEST_URI the client's, as after
		// nginx's error_page.
		for _, tc := range []struct {
			what, method, path string
			status             int
			body               string
		}{
			{"404", "GET", "/nowhere.html", 404, "<h1>custom not found</h1>"},
			{"HEAD 404", "HEAD", "/nowhere.html", 404, ""},
			{"backend down", "GET", "/dead/x", 502, "<h1>custom backend error</h1>"},
			{"page from PHP", "GET", "/docs/missing.html", 404, "app page for /docs/missing.html"},
			{"HEAD, page from PHP", "HEAD", "/docs/missing.html", 404, ""},
			{"page from the HTTP application", "GET", "/docs2/missing.html", 404, "sorry page for /app/sorry"},
			{"a file there", "GET", "/docs/a.txt", 200, "a"},
			{"missing script", "GET", "/missing.php", 404, "<h1>custom not found</h1>"},
		} {
			if resp, body := do(tc.method, tc.path, nil, nil, 0); resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("%s: %d %q, want %d %q", tc.what, resp.StatusCode, body, tc.status, tc.body)
			}
		}
	})

	t.Run("basic_auth", func(t *testing.T) {
		resp, _ := do("GET", "/private/note.txt", nil, nil, 0)
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="gale test", charset="UTF-8"` {
			t.Errorf("no credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		for _, cred := range [][2]string{{"alice", "wrong"}, {"bob", "s3cret pass"}, {"alice", ""}} {
			req, _ := http.NewRequest("GET", p.url("/private/note.txt"), nil)
			req.SetBasicAuth(cred[0], cred[1])
			resp, err := c.Do(req)
			check(t, err)
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("%s:%s: %d, want 401", cred[0], cred[1], resp.StatusCode)
			}
		}
		for range 2 { // the second is answered from the cache of checked passwords
			req, _ := http.NewRequest("GET", p.url("/private/note.txt"), nil)
			req.SetBasicAuth("alice", "s3cret pass")
			resp, err := c.Do(req)
			check(t, err)
			if b := readAll(t, resp); resp.StatusCode != 200 || b != "for members" {
				t.Errorf("right password: %d %q", resp.StatusCode, b)
			}
		}
		out, err := exec.Command("curl", "-sS", "-u", "alice:s3cret pass", p.url("/private/note.txt")).CombinedOutput()
		if err != nil || string(out) != "for members" {
			t.Errorf("curl -u: %v %q", err, out)
		}
	})

	t.Run("limit_req", func(t *testing.T) {
		var got []int
		for range 5 {
			resp, _ := do("GET", "/api/x", nil, nil, 0)
			got = append(got, resp.StatusCode)
		}
		if fmt.Sprint(got) != "[200 200 200 429 429]" {
			t.Errorf("rate 1r/m burst 2 status 429: %v", got)
		}
		got = got[:0]
		for range 3 {
			resp, _ := do("GET", "/api503/x", nil, nil, 0)
			got = append(got, resp.StatusCode)
		}
		if fmt.Sprint(got) != "[200 503 503]" {
			t.Errorf("rate 1r/m no burst: %v", got)
		}
		// Without nodelay, a burst is paced: six at once at 5r/s with a
		// burst of 3 give the first at once, three more 200, 400 and
		// 600 ms later, and two refusals at once.
		type result struct {
			status int
			took   time.Duration
		}
		results := make(chan result, 6)
		for range 6 {
			go func() {
				start := time.Now()
				resp, err := c.Get(p.url("/paced/x"))
				if err != nil {
					results <- result{0, time.Since(start)}
					return
				}
				resp.Body.Close()
				results <- result{resp.StatusCode, time.Since(start)}
			}()
		}
		var ok, refused int
		var slowest time.Duration
		for range 6 {
			r := <-results
			switch r.status {
			case 200:
				ok++
				slowest = max(slowest, r.took)
			case 503:
				refused++
				if r.took > 300*time.Millisecond {
					t.Errorf("a refusal took %v: it must not wait", r.took)
				}
			default:
				t.Errorf("paced request: %d", r.status)
			}
		}
		if ok != 4 || refused != 2 || slowest < 500*time.Millisecond || slowest > 3*time.Second {
			t.Errorf("paced burst: %d served (the last after %v), %d refused; want 4 (after about 600 ms) and 2", ok, slowest, refused)
		}
	})

	t.Run("real_ip", func(t *testing.T) {
		// 127.0.0.1 and 10/8 are trusted: the client is the first
		// untrusted address from the right.
		hdr := map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.1, 10.9.9.9", "X-Forwarded-Proto": "https"}
		_, body := do("GET", "/app/echo", hdr, nil, 0)
		if want := "xff=203.0.113.9, 198.51.100.1, 10.9.9.9, 127.0.0.1;proto=https;len=0"; string(body) != want {
			t.Errorf("HTTP upstream behind a trusted proxy: %q, want %q", body, want)
		}
		_, body = do("GET", "/addr.php", hdr, nil, 0)
		if string(body) != "198.51.100.1" {
			t.Errorf("REMOTE_ADDR behind a trusted proxy: %q", body)
		}
		_, body = do("GET", "/addr.php", nil, nil, 0)
		if string(body) != "127.0.0.1" {
			t.Errorf("REMOTE_ADDR without a forwarding header: %q", body)
		}
	})

	t.Run("proxy_header_refused", func(t *testing.T) {
		// This listener takes no PROXY protocol: the header is a bad
		// request, never an address.
		resp := rawRequest(t, p.addr, []byte("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nGET /addr.php HTTP/1.1\r\nHost: a\r\n\r\n"))
		if resp == nil || resp.StatusCode != 400 {
			t.Errorf("PROXY v1 on a plain listener: %v, want 400", resp)
		}
		resp = rawRequest(t, p.addr, append(proxyV2(t, "198.51.100.9", 4242), "GET /addr.php HTTP/1.1\r\nHost: a\r\n\r\n"...))
		if resp == nil || resp.StatusCode != 400 {
			t.Errorf("PROXY v2 on a plain listener: %v, want 400", resp)
		}
	})
}

// TestProxyProtocol: on a listener with proxy_protocol, PROXY v1 and v2
// headers give the client's address to REMOTE_ADDR, to the HTTP upstream's
// X-Forwarded-For (a client's forged one replaced: no trusted proxies
// here), to the access log and to limit_conn; a connection without one is
// closed.
func TestProxyProtocol(t *testing.T) {
	s := newGuardSite(t)
	logPath := filepath.Join(s.dir, "access.log")
	cfg := writeFile(t, s.dir, "gale.yaml", fmt.Sprintf(`
proxy_protocol: true
limit_conn: {max: 2}
log: {access: %q}
upstreams:
  php: {backends: [%q]}
  app: {protocol: http, backends: [%q]}
vhosts:
  - root: www
    locations:
      - prefix: /
      - ext: [.php]
        fastcgi: {upstream: php}
      - prefix: /app/
        proxy: {upstream: app}
`, logPath, s.fpm.Addr(), s.app.Listener.Addr().String()))
	if out, err := exec.Command(galeBin, "-t", "-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := startGale(t, "-config", cfg, "-loops", "2")
	v1 := func(ip string) []byte { return []byte("PROXY TCP4 " + ip + " 10.0.0.1 5555 80\r\n") }
	get := func(path string) []byte {
		return []byte("GET " + path + " HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
	}
	for _, tc := range []struct {
		name, want string
		req        []byte
	}{
		{"v1 REMOTE_ADDR", "203.0.113.7", append(v1("203.0.113.7"), get("/addr.php")...)},
		{"v2 REMOTE_ADDR", "198.51.100.9", append(proxyV2(t, "198.51.100.9", 4242), get("/addr.php")...)},
		{"v2 IPv6 REMOTE_ADDR", "2001:db8::5", append(proxyV2(t, "2001:db8::5", 4242), get("/addr.php")...)},
		{"v1 X-Forwarded-For", "xff=203.0.113.8;proto=http;len=0", append(v1("203.0.113.8"), get("/app/echo")...)},
		{"v1 UNKNOWN keeps the socket's", "127.0.0.1", append([]byte("PROXY UNKNOWN\r\n"), get("/addr.php")...)},
	} {
		resp := rawRequest(t, p.addr, tc.req)
		if resp == nil {
			t.Errorf("%s: no response", tc.name)
			continue
		}
		if b := readAll(t, resp); resp.StatusCode != 200 || b != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.name, resp.StatusCode, b, tc.want)
		}
	}
	// A header that arrives in pieces is waited for.
	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	check(t, err)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	whole := append(proxyV2(t, "198.51.100.77", 1), get("/addr.php")...)
	for _, part := range [][]byte{whole[:7], whole[7:20], whole[20:]} {
		_, err := conn.Write(part)
		check(t, err)
		time.Sleep(30 * time.Millisecond)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	check(t, err)
	if b := readAll(t, resp); b != "198.51.100.77" {
		t.Errorf("PROXY v2 header in pieces: %d %q", resp.StatusCode, b)
	}
	conn.Close()
	if resp := rawRequest(t, p.addr, get("/addr.php")); resp != nil {
		t.Errorf("no PROXY header on a proxy_protocol listener: answered %d, want the connection closed", resp.StatusCode)
	}

	// limit_conn: two busy connections per address (nginx counts those
	// with a request in progress).
	dial := func(ip, path string) (net.Conn, *bufio.Reader) {
		conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
		check(t, err)
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Write(append(v1(ip), "GET "+path+" HTTP/1.1\r\nHost: b\r\n\r\n"...))
		check(t, err)
		return conn, bufio.NewReader(conn)
	}
	status := func(br *bufio.Reader) int {
		resp, err := http.ReadResponse(br, nil)
		check(t, err)
		readAll(t, resp)
		return resp.StatusCode
	}
	var busy []net.Conn
	var busyR []*bufio.Reader
	for range 2 {
		conn, br := dial("192.0.2.50", "/app/wait")
		busy, busyR = append(busy, conn), append(busyR, br)
	}
	time.Sleep(100 * time.Millisecond) // both requests are in progress
	conn, br := dial("192.0.2.50", "/index.html")
	if st := status(br); st != 503 {
		t.Errorf("third busy connection of an address over limit_conn 2: %d, want 503", st)
	}
	conn.Close()
	conn, br = dial("192.0.2.51", "/index.html")
	if st := status(br); st != 200 {
		t.Errorf("another address: %d", st)
	}
	conn.Close()
	close(s.hold)
	for i, br := range busyR {
		if st := status(br); st != 200 {
			t.Errorf("busy connection %d: %d", i, st)
		}
	}
	// Idle now (not closed): within a tick or two they count no more.
	deadline := time.Now().Add(3 * time.Second)
	for {
		conn, br := dial("192.0.2.50", "/index.html")
		st := status(br)
		conn.Close()
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle connections still counted: %d", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range busy {
		c.Close()
	}

	// The access log has the addresses the headers gave.
	deadline = time.Now().Add(3 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if bytes.Contains(b, []byte("203.0.113.7 - - [")) && bytes.Contains(b, []byte("198.51.100.9 - - [")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log lacks the PROXY addresses:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proxyV2 is a PROXY protocol v2 header (PROXY command, TCP) from ip:port.
func proxyV2(t *testing.T, ip string, port uint16) []byte {
	t.Helper()
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21")
	src := net.ParseIP(ip)
	var addrs []byte
	if v4 := src.To4(); v4 != nil {
		b = append(b, 0x11, 0, 12)
		addrs = append(append(addrs, v4...), 10, 0, 0, 1)
	} else {
		b = append(b, 0x21, 0, 36)
		addrs = append(append(addrs, src.To16()...), net.ParseIP("2001:db8::1").To16()...)
	}
	b = append(b, addrs...)
	b = binary.BigEndian.AppendUint16(b, port)
	return binary.BigEndian.AppendUint16(b, 80)
}

// rawRequest writes raw bytes on a new connection and reads one response;
// nil when the connection closed without one.
func rawRequest(t *testing.T, addr string, raw []byte) *http.Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	check(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Write(raw)
	check(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil
	}
	return resp
}

// decode undoes a content coding.
func decode(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		check(t, err)
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		check(t, err)
		defer zr.Close()
		r = zr
	}
	out, err := io.ReadAll(r)
	check(t, err)
	return out
}
