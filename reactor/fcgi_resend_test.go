package reactor_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/upstream"
)

// TestNoResendOfRequestTheBackendRejects: a backend that reads a request
// and closes a fresh connection without a byte of answer (uWSGI does with
// a header beyond its buffer) fails the same way on every try: that is
// the request's fault, not the connection's. gale answers 502 at once and
// does not send it again (it used to resend it twice).
func TestNoResendOfRequestTheBackendRejects(t *testing.T) {
	b := startRawBackend(t, false, func(c *rawConn, id uint16) { c.Close() })
	s, _, _ := startRaw(t, b, nil)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 1; i <= 2; i++ {
		resp, err := client.Get(s.url("/x.php"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 502 {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
		if begins, _ := b.counts(); begins != i {
			t.Fatalf("after %d requests the backend saw %d BEGIN_REQUESTs: a request it rejected was resent", i, begins)
		}
	}
}

// TestWorkerCrashResendsPipelined: a worker that serves one request at a
// time (php-fpm) dies in the middle of a response record, with a GET
// pipelined behind it in its socket. The dying request gets its error; the
// GET was never read by the worker and is resent on a fresh connection
// (it used to get a 502 for the other request's broken record).
func TestWorkerCrashResendsPipelined(t *testing.T) {
	var mu sync.Mutex
	n, dieConn := 0, -1
	b := startRawBackend(t, false, func(c *rawConn, id uint16) {
		mu.Lock()
		n++
		k, dying := n, c.serial == dieConn
		if k == 3 {
			dieConn = c.serial
		}
		mu.Unlock()
		switch {
		case k == 3:
			rec := stdout(id, "Content-Type: text/plain\r\n\r\n"+strings.Repeat("x", 1000))
			c.write(rec[:len(rec)-500]) // a record cut short: the worker dies
			time.Sleep(300 * time.Millisecond)
			c.Close()
		case dying:
			// Pipelined behind the dying request: a worker never reads it.
		default:
			c.write(stdout(id, "Content-Type: text/plain\r\n\r\nok"))
			c.write(endReq(id))
		}
	})
	u := &upstream.Upstream{MaxConns: 1, Pipeline: 2, PipelineWindow: 5 * time.Second}
	s, _, _ := startRaw(t, b, u)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	for i := 0; i < 2; i++ { // two on one connection: the backend keeps connections
		if st := get(t, client, s.url("/warm.php")); st != 200 {
			t.Fatalf("warm-up %d: status %d", i, st)
		}
	}
	dieStatus := make(chan int, 1)
	go func() { dieStatus <- get(t, &http.Client{Timeout: 5 * time.Second}, s.url("/die.php")) }()
	time.Sleep(100 * time.Millisecond) // the dying request is running
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.url("/next.php"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("pipelined GET behind a crashing worker: %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}
	if st := <-dieStatus; st == 200 {
		t.Fatalf("the request whose response was cut got 200")
	}
	if begins, _ := b.counts(); begins != 5 {
		t.Errorf("backend saw %d BEGIN_REQUESTs, want 5 (2 warm-ups, the crash, the pipelined GET twice)", begins)
	}
}
