package reactor_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestSmugglingOverTheWire sends every row of the smuggling table on its
// own raw connection to a gale in front of a Go net/http/fcgi backend that
// counts what it receives. A rejected row, followed on the same write by a
// pipelined request carrying the smuggled marker, must get exactly its
// status with "Connection: close", then EOF, and reach the backend not at
// all; a valid row reaches it exactly Backend times. The backend never
// sees the marker.
func TestSmugglingOverTheWire(t *testing.T) {
	var (
		mu      sync.Mutex
		targets []string
		count   atomic.Int64
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		targets = append(targets, r.RequestURI+" "+r.URL.RawQuery)
		mu.Unlock()
		count.Add(1)
		io.WriteString(w, "backend\n")
	})
	s, _ := startGoFCGI(t, h, 2, nil)

	want := int64(0)
	for _, c := range testenv.SmugglingCases {
		before := count.Load()
		conn := s.dial(t)
		br := bufio.NewReader(conn)
		raw := c.Raw
		if c.Status != 200 {
			raw += testenv.SmuggledRequest // nothing after a rejected request may be served
		}
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatalf("%s: write: %v", c.Rule, err)
		}
		for i := 0; i < max(c.Backend, 1); i++ {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("%s: response %d: %v", c.Rule, i, err)
				break
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.Status || err != nil {
				t.Errorf("%s: status %d (%q, %v), want %d", c.Rule, resp.StatusCode, body, err, c.Status)
			}
			if c.Status == 200 && string(body) != "backend\n" {
				t.Errorf("%s: body %q", c.Rule, body)
			}
			if c.Status != 200 && !resp.Close {
				t.Errorf("%s: error response without Connection: close", c.Rule)
			}
		}
		if c.Status != 200 {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
				t.Errorf("%s: want the connection closed, got %q, %v", c.Rule, rest, err)
			}
		}
		conn.Close()
		want += int64(c.Backend)
		if got := count.Load() - before; got != int64(c.Backend) {
			t.Errorf("%s: the backend received %d requests, want %d", c.Rule, got, c.Backend)
		}
	}
	// Anything still on its way to the backend would arrive now.
	time.Sleep(100 * time.Millisecond)
	if got := count.Load(); got != want {
		t.Errorf("the backend received %d requests in all, want %d", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, tg := range targets {
		if strings.Contains(tg, testenv.SmuggledMarker) {
			t.Errorf("the backend received a smuggled request: %s", tg)
		}
	}
}
