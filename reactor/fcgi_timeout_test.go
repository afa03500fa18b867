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

// TestGoFCGITimeoutsInOneTick: several requests multiplexed on one
// upstream connection whose handler never answers time out in the same
// tick. The first timeout closes the connection, whose OnClose cancels the
// others' timers while the wheel is firing that slot: every request gets
// its 504 and gale keeps serving (it used to die of a nil dereference in
// wheel.advance). Gale's own close of the timed-out connection is not the
// backend closing after each request: the backend stays pooled.
func TestGoFCGITimeoutsInOneTick(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/block") {
			<-release
		}
		io.WriteString(w, "ok\n")
	})
	u := &upstream.Upstream{MaxConns: 1, MaxMux: 8, ReadTimeout: 300 * time.Millisecond}
	s, l := startGoFCGI(t, h, 1, u)
	t.Cleanup(func() { close(release) }) // before the leak check

	client := &http.Client{Timeout: 5 * time.Second}
	if st := get(t, client, s.url("/ok.php")); st != 200 {
		t.Fatalf("warm-up: status %d", st)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = get(t, &http.Client{Timeout: 5 * time.Second}, s.url("/block.php"))
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 504 {
			t.Errorf("blocked request %d: status %d, want 504", i, st)
		}
	}
	before := l.accepted.Load()
	for i := 0; i < 10; i++ {
		if st := get(t, client, s.url("/ok.php")); st != 200 {
			t.Fatalf("after the timeouts, request %d: status %d", i, st)
		}
	}
	if n := l.accepted.Load() - before; n > 2 {
		t.Errorf("10 sequential requests after gale's timeout closes took %d new backend connections: the backend is no longer pooled", n)
	}
}

// get returns the status of a GET, 0 when the request failed.
func get(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Logf("GET %s: %v", url, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
