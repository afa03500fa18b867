package reactor_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/upstream"
)

// pipelined returns how many requests gale pipelined to u's first backend.
func pipelined(s *server, u *upstream.Upstream) uint64 {
	if bs := s.srv.Stats().Backends[u.Backends[0]]; bs != nil {
		return bs.Pipelined
	}
	return 0
}

// echoLoad sends n GETs of echo.php with distinct IDs from c clients and
// checks that each response is its own request's: a pipelined response
// handed to the wrong client would show up here. It returns the failures.
func echoLoad(t *testing.T, s *server, n, c int, us int) int64 {
	t.Helper()
	fails, _ := hammer(t, n, c, func(client *http.Client, i int64) (int, error) {
		resp, err := client.Get(s.url(fmt.Sprintf("/echo.php?id=%d&us=%d", i, us)))
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("id=%d", i); string(body) != want {
			return resp.StatusCode, fmt.Errorf("body %q, want %q", body, want)
		}
		return resp.StatusCode, nil
	})
	return fails
}

// TestPHPPipelining: with php-fpm's workers all busy, GETs go behind the
// running request on its connection instead of gale's queue. Every client
// gets its own response, and when php-fpm recycles a worker
// (pm.max_requests) with a request waiting behind, that request is resent
// on a fresh connection: no client sees an error.
func TestPHPPipelining(t *testing.T) {
	for _, maxReq := range []int{0, 7} {
		t.Run(fmt.Sprintf("max_requests=%d", maxReq), func(t *testing.T) {
			fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2, MaxRequests: maxReq})
			u := &upstream.Upstream{MaxConns: 2, ReadTimeout: 5 * time.Second}
			s, logs := startPHPLoops(t, fpm, u, 1)
			if fails := echoLoad(t, s, 3000, 24, 200); fails != 0 {
				fpmLog, _ := os.ReadFile(fpm.Log)
				t.Fatalf("%d of 3000 requests failed\n%s\nphp-fpm:\n%s", fails, lastLines(logs.String(), 30), lastLines(string(fpmLog), 10))
			}
			if n := pipelined(s, u); n < 100 {
				t.Fatalf("only %d of 3000 requests were pipelined with 24 clients on 2 workers", n)
			}
		})
	}
}

// TestPHPPipelineOff: pipeline 1 keeps one request per connection.
func TestPHPPipelineOff(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	u := &upstream.Upstream{MaxConns: 2, Pipeline: 1}
	s, _ := startPHPLoops(t, fpm, u, 1)
	if fails := echoLoad(t, s, 500, 16, 200); fails != 0 {
		t.Fatalf("%d failures", fails)
	}
	if n := pipelined(s, u); n != 0 {
		t.Fatalf("%d requests pipelined with pipeline: 1", n)
	}
}

// timedGet returns how long a GET of path took, failing on anything but
// 200 with the wanted body.
func timedGet(t *testing.T, s *server, path, want string) time.Duration {
	t.Helper()
	began := time.Now()
	resp, body := httpGet(t, s.url(path))
	if resp.StatusCode != 200 || body != want {
		t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
	}
	return time.Since(began)
}

// TestPHPPipelineNotBehindSlowScript: a GET is not pipelined behind a
// request that has been running longer than the window. With two workers
// busy, one on a 1.5 s script and one on a 0.4 s script, a fast GET waits
// in the queue for the first worker that frees (~0.3 s later) instead of
// behind the long script (1.4 s later).
func TestPHPPipelineNotBehindSlowScript(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	u := &upstream.Upstream{MaxConns: 2}
	s, _ := startPHPLoops(t, fpm, u, 1)
	timedGet(t, s, "/hello.php", "Hello, World!") // two connections proven kept alive
	timedGet(t, s, "/hello.php", "Hello, World!")

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); timedGet(t, s, "/sleep.php?ms=1500", "slept") }()
	time.Sleep(50 * time.Millisecond)
	go func() { defer wg.Done(); timedGet(t, s, "/sleep.php?ms=400", "slept") }()
	time.Sleep(100 * time.Millisecond)
	d := timedGet(t, s, "/echo.php?id=fast", "id=fast")
	wg.Wait()
	if d > time.Second {
		t.Fatalf("the fast GET took %v: it waited behind the 1.5 s script", d)
	}
	if n := pipelined(s, u); n != 0 {
		t.Fatalf("%d requests pipelined behind scripts running for 100 ms or more", n)
	}
}

// TestPHPPipelineDoesNotStarvePost: a POST, which is never pipelined,
// waits for a connection of its own; GETs arriving after it queue behind
// it rather than keep every connection busy, so it is served promptly
// under a steady GET load.
func TestPHPPipelineDoesNotStarvePost(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 1})
	u := &upstream.Upstream{MaxConns: 1}
	s, _ := startPHPLoops(t, fpm, u, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(s.url("/echo.php?id=g&us=3000"))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	resp, err := http.Post(s.url("/form.php"), "application/x-www-form-urlencoded", strings.NewReader("name=ada&city=london"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(began)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if resp.StatusCode != 200 || string(body) != "ada|london" {
		t.Fatalf("POST: %d %q", resp.StatusCode, body)
	}
	if pipelined(s, u) == 0 {
		t.Fatal("the GET load was never pipelined: the test did not test anything")
	}
	// Six clients on one 3 ms worker: the POST waits for a few requests,
	// never for the whole load.
	if d > 500*time.Millisecond {
		t.Fatalf("POST took %v under a GET load", d)
	}
}

// TestPHPPipelinedClientLeaves: the client of a pipelined request leaves.
// Nothing goes to php-fpm (an FCGI_ABORT_REQUEST would be read where a
// request should start, and php-fpm would close the connection): the
// request ahead is answered in full, the departed one's output is dropped,
// and the connection goes on serving.
func TestPHPPipelinedClientLeaves(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 1})
	u := &upstream.Upstream{MaxConns: 1, PipelineWindow: 5 * time.Second}
	s, logs := startPHPLoops(t, fpm, u, 1)
	timedGet(t, s, "/hello.php", "Hello, World!") // the connection is proven kept alive
	timedGet(t, s, "/hello.php", "Hello, World!")

	ahead := make(chan time.Duration, 1)
	go func() { ahead <- timedGet(t, s, "/sleep.php?ms=400", "slept") }()
	time.Sleep(50 * time.Millisecond)
	c := s.dial(t)
	if _, err := io.WriteString(c, "GET /sleep.php?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := pipelined(s, u); n != 1 {
		t.Fatalf("pipelined %d requests, want 1", n)
	}
	c.Close()
	<-ahead
	for i := 0; i < 5; i++ {
		timedGet(t, s, fmt.Sprintf("/echo.php?id=after%d", i), fmt.Sprintf("id=after%d", i))
	}
	if !strings.Contains(logs.String(), "pipelined request's response will be dropped") {
		t.Errorf("no log line for the departed client:\n%s", lastLines(logs.String(), 10))
	}
	if strings.Contains(logs.String(), "upstream closed") {
		t.Errorf("the upstream connection was lost:\n%s", lastLines(logs.String(), 10))
	}
}
