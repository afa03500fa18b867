package reactor_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// fixedHandler answers every request with one static body.
type fixedHandler string

func (f fixedHandler) Serve(ctx *handlers.Ctx, _ *httpcodec.Request, resp *handlers.Response) {
	resp.Status = 200
	resp.Head = []byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(f)) + "\r\n")
	resp.AddBody([]byte(f))
}

// TestSetHandlerAndRetireUpstream: after SetHandler a request on an
// already open keep-alive connection gets the new handler's answer (the
// connection is not closed); RetireUpstream then closes the pooled idle
// backend connection, while a request in flight on another one finishes
// with its full answer before that connection closes too.
func TestSetHandlerAndRetireUpstream(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.php" {
			<-release
		}
		io.WriteString(w, "from the backend\n")
	})
	// One request per connection, so the slow request takes a second one.
	u := &upstream.Upstream{MaxMux: 1}
	s, l := startGoFCGI(t, h, 1, u)

	// A slow request holds one backend connection busy...
	slow := s.dial(t)
	slowBr := bufio.NewReader(slow)
	io.WriteString(slow, "GET /slow.php HTTP/1.1\r\nHost: t\r\n\r\n")
	waitFor(t, "the slow request's backend connection", func() bool { return l.accepted.Load() >= 2 }) // + the probe
	// ...so a quick one opens a second, which goes idle in the pool.
	c := s.dial(t)
	br := bufio.NewReader(c)
	const get = "GET /a.php HTTP/1.1\r\nHost: t\r\n\r\n"
	// Twice: a connection that carried two requests shows the backend
	// keeps connections alive (else closing it would teach gale otherwise).
	for i := 0; i < 2; i++ {
		if resp, body := roundTrip(t, c, br, get, "GET"); resp.StatusCode != 200 || body != "from the backend\n" {
			t.Fatalf("before: %d %q", resp.StatusCode, body)
		}
	}
	waitFor(t, "two backend connections", func() bool { return l.open.Load() == 2 })

	s.srv.SetHandler(fixedHandler("new tree\n"))
	s.srv.RetireUpstream(u)
	if resp, body := roundTrip(t, c, br, get, "GET"); resp.StatusCode != 200 || body != "new tree\n" {
		t.Fatalf("after SetHandler, same connection: %d %q", resp.StatusCode, body)
	}
	// The idle pooled connection is closed; the busy one stays.
	waitFor(t, "the idle backend connection closed", func() bool { return l.open.Load() == 1 })
	close(release)
	if resp, body := roundTrip(t, slow, slowBr, "", "GET"); resp.StatusCode != 200 || !strings.Contains(body, "from the backend") {
		t.Fatalf("request in flight across the retirement: %d %q", resp.StatusCode, body)
	}
	waitFor(t, "the busy backend connection closed after its request", func() bool { return l.open.Load() == 0 })
	// Its counters go with it: a reload does not leak the backends it
	// replaced, nor keep reporting them in metrics.
	waitFor(t, "the retired backend gone from the stats", func() bool {
		_, kept := s.srv.Stats().Backends[u.Backends[0]]
		return !kept
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
