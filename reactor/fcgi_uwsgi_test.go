package reactor_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// wsgiEcho describes the request it got, and the body's length and hash.
const wsgiEcho = `import hashlib

def application(env, start_response):
    body = env['wsgi.input'].read()
    out = "method=%s uri=%s script=%s info=%s q=%s len=%d sha256=%s\n" % (
        env['REQUEST_METHOD'], env.get('REQUEST_URI'), env.get('SCRIPT_NAME'), env.get('PATH_INFO'),
        env.get('QUERY_STRING'), len(body), hashlib.sha256(body).hexdigest())
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [out.encode()]
`

// uwsgiPlugin is where Debian's uwsgi-plugin-python3 puts the plugin.
const uwsgiPlugin = "/usr/lib/uwsgi/plugins/python3_plugin.so"

// startUWSGI runs uWSGI (master and two workers) with a FastCGI socket on a
// loopback port, serving the WSGI app src. The tests fail without uWSGI:
// `make test-deps` installs it.
func startUWSGI(t *testing.T, src string) string {
	t.Helper()
	return startUWSGIApp(t, src, "--fastcgi-socket", "ADDR")
}

func startUWSGIGale(t *testing.T) *server {
	t.Helper()
	addr := startUWSGI(t, wsgiEcho)
	backends, err := upstream.ParseAddrs(addr)
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "uwsgi", Backends: backends}
	return startWith(t, reactor.Config{Loops: 2}, appScripts, u)
}

// TestUWSGIRequests: a query string and a request body reach a WSGI app
// under uWSGI intact, through the front controller.
func TestUWSGIRequests(t *testing.T) {
	s := startUWSGIGale(t)
	empty := sha256.Sum256(nil)
	began := time.Now()
	if resp, body := httpGet(t, s.url("/hello.php?name=gale&x=%20y")); resp.StatusCode != 200 || body !=
		"method=GET uri=/hello.php?name=gale&x=%20y script=/hello.php info= q=name=gale&x=%20y len=0 sha256="+hex.EncodeToString(empty[:])+"\n" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	// uWSGI never answers FCGI_GET_VALUES: the first request must not wait
	// for that answer (gale's probe deadline is the 5 s connect timeout).
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("the first request took %v: held by the FCGI_GET_VALUES probe uWSGI never answers", d.Round(time.Millisecond))
	}
	// An unknown path runs the front controller script; the application
	// still sees the URI the client asked for.
	if _, body := httpGet(t, s.url("/some/route?q=1")); !strings.HasPrefix(body, "method=GET uri=/some/route?q=1 script=/index.php ") {
		t.Fatalf("front controller: %q", body)
	}
	payload := make([]byte, 1<<20+3)
	rand.Read(payload)
	sum := sha256.Sum256(payload)
	want := fmt.Sprintf("method=POST uri=/upload.php script=/upload.php info= q= len=%d sha256=%s\n", len(payload), hex.EncodeToString(sum[:]))
	for _, chunked := range []bool{false, true} {
		if resp, b := httpPost(t, s.url("/upload.php"), payload, chunked); resp.StatusCode != 200 || b != want {
			t.Fatalf("POST chunked=%v: %d %q, want %q", chunked, resp.StatusCode, b, want)
		}
	}
}

// TestUWSGIClosesEveryConnection: uWSGI closes its FastCGI connection
// after each request despite FCGI_KEEP_CONN; no client may see an error,
// for GETs and POSTs alike. A POST must not go out on a connection the
// backend is closing: it cannot be resent safely.
func TestUWSGIClosesEveryConnection(t *testing.T) {
	s := startUWSGIGale(t)
	fails, statuses := load(t, s.url("/hello.php?n=1"), 200, 8)
	if fails != 0 {
		t.Errorf("GET: %d of 200 failed: %v", fails, statuses)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				payload := fmt.Sprintf("worker %d post %d", w, i)
				sum := sha256.Sum256([]byte(payload))
				want := fmt.Sprintf("method=POST uri=/post.php script=/post.php info= q= len=%d sha256=%s\n", len(payload), hex.EncodeToString(sum[:]))
				resp, err := http.Post(s.url("/post.php"), "text/plain", strings.NewReader(payload))
				if err != nil {
					errs <- err
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != want {
					errs <- fmt.Errorf("POST %d/%d: %d %q", w, i, resp.StatusCode, b)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 3 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of 100 POSTs failed", n)
	}
}
