package reactor_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestSlowBackendOutlivesIdleTimeout: a request the backend takes longer
// than the keep-alive idle timeout to answer is answered; the idle timer
// is for a connection waiting for its next request, not for one waiting
// on its backend (it used to close the connection: an empty reply).
func TestSlowBackendOutlivesIdleTimeout(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1200 * time.Millisecond)
		io.WriteString(w, "slow but sure\n")
	})
	s := startGoFCGIWith(t, h, reactor.Config{Loops: 1, IdleTimeout: 400 * time.Millisecond}, &upstream.Upstream{})
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.url("/slow.php"))
	if err != nil {
		t.Fatalf("request slower than the idle timeout: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "slow but sure\n" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}
