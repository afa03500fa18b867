package reactor_test

import (
	"bytes"
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

	"github.com/gale-http/gale/upstream"
)

// TestGoFCGIEarlyAnswerToSpooledBody: Go's net/http/fcgi writes
// END_REQUEST before it drains a body its handler did not read, as any
// HTTP server answering 401 or 413 early does. The request ends while its
// spooled body is still being written to the backend: the body file and
// the pooled buffer must outlive that write (they were closed and handed
// back to the pool under it), and requests that follow on the same
// connection must get their own answers.
func TestGoFCGIEarlyAnswerToSpooledBody(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/deny.php", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, "denied\n")
	})
	mux.HandleFunc("/echo.php", echoSum)
	s, _ := startGoFCGI(t, mux, 1, &upstream.Upstream{MaxConns: 1})

	big := make([]byte, 3<<20) // beyond the request spool's memory: a body file
	rand.Read(big)
	small := []byte("hello, small body")
	sum := sha256.Sum256(small)
	wantEcho := string(small) + "sha256=" + hex.EncodeToString(sum[:]) + "\n"
	client := &http.Client{Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				resp, err := client.Post(s.url("/deny.php"), "application/octet-stream", bytes.NewReader(big))
				if err != nil {
					errs <- fmt.Errorf("deny: %v", err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 401 || string(body) != "denied\n" {
					errs <- fmt.Errorf("deny: %d %q", resp.StatusCode, body)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				resp, err := client.Post(s.url("/echo.php"), "text/plain", bytes.NewReader(small))
				if err != nil {
					errs <- fmt.Errorf("echo: %v", err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != wantEcho {
					errs <- fmt.Errorf("echo: %d %q", resp.StatusCode, trunc(body))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
}

// TestGoFCGITwoSpooledBodiesMultiplexed: two bodies spooled to files go
// to the backend on one multiplexed connection; each must arrive whole
// and in its own request (a second spooled body used to replace the first
// in the connection's write queue).
func TestGoFCGITwoSpooledBodiesMultiplexed(t *testing.T) {
	s, l := startGoFCGI(t, http.HandlerFunc(echoSum), 1, &upstream.Upstream{MaxConns: 1})
	client := &http.Client{Timeout: 20 * time.Second}
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			body := make([]byte, 2<<20+i*4099)
			rand.Read(body)
			sum := sha256.Sum256(body)
			want := "sha256=" + hex.EncodeToString(sum[:]) + "\n"
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Post(s.url("/echo.php"), "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					errs[i] = err
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode != 200:
					errs[i] = fmt.Errorf("status %d", resp.StatusCode)
				case len(got) != len(body)+len(want) || !bytes.Equal(got[:len(body)], body):
					errs[i] = fmt.Errorf("echo of %d bytes came back as %d bytes, or different", len(body), len(got)-len(want))
				case string(got[len(body):]) != want:
					errs[i] = fmt.Errorf("checksum line %q, want %q", got[len(body):], want)
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, body %d: %v", round, i, err)
			}
		}
	}
	if n := l.accepted.Load(); n > 3 {
		t.Logf("%d backend connections (1 budget + probe)", n)
	}
}

func trunc(b []byte) string {
	s := string(b)
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return strings.TrimSpace(s)
}
