package reactor_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/fastcgi"
)

// TestFCGIClientAbortOneAtATime: on a connection that carries one request
// at a time (php-fpm's kind), a client that leaves mid-response gets its
// request FCGI_ABORT_REQUEST'ed and the upstream connection closed; the
// budget comes back whole: after three such aborts, a budget of two serves
// two requests at once.
func TestFCGIClientAbortOneAtATime(t *testing.T) {
	var mu sync.Mutex
	arrived := 0
	both := make(chan struct{})
	b := startRawBackend(t, false, func(c *rawConn, id uint16) {
		mu.Lock()
		arrived++
		if arrived == 5 { // requests 4 and 5 are the concurrent pair
			close(both)
		}
		n := arrived
		mu.Unlock()
		if n <= 3 {
			c.write(stdout(id, "Content-Type: text/plain\r\n\r\n"+strings.Repeat("x", 100<<10)))
			return // and never end: the client leaves
		}
		select {
		case <-both:
			c.write(append(stdout(id, "Content-Type: text/plain\r\n\r\nboth"), endReq(id)...))
		case <-time.After(5 * time.Second):
			c.write(append(stdout(id, "Status: 500\r\n\r\nalone"), endReq(id)...))
		}
	})
	s, logs, be := startRaw(t, b, &upstream.Upstream{MaxConns: 2})
	for i := 0; i < 3; i++ {
		c := s.dial(t)
		fmt.Fprintf(c, "GET /slow.php HTTP/1.1\r\nHost: t\r\n\r\n")
		br := bufio.NewReader(c)
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("%q %v", line, err)
		}
		c.Close()
		ab := b.await(t, "FCGI_ABORT_REQUEST", func(e rawEvent) bool { return e.typ == fastcgi.TypeAbortRequest })
		b.await(t, "the aborted request's connection closed", func(e rawEvent) bool { return e.typ == 0 && e.conn == ab.conn })
	}
	waitConns(t, be, 0)
	if !strings.Contains(logs.String(), "request aborted") {
		t.Fatalf("no log line for the abort:\n%s", logs)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(s.url("/pair.php"))
			if err != nil {
				errs <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "both" {
				errs <- fmt.Sprintf("%d %q", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("the full budget is not usable after the aborts: %s", e)
	}
}

// TestFCGIClientAbortMultiplexed: on a multiplexed connection the aborted
// ID is quarantined: the backend's answer to the ABORT, late output for
// that ID and a second END_REQUEST (what Go's net/http/fcgi may send) are
// dropped, the other request on the connection completes intact, and the
// connection is closed once it has no live request, so the ID is never
// reused on it.
func TestFCGIClientAbortMultiplexed(t *testing.T) {
	started := make(chan *rawConn, 2)
	ids := make(chan uint16, 2)
	b := startRawBackend(t, true, func(c *rawConn, id uint16) {
		started <- c
		ids <- id
	})
	s, logs, be := startRaw(t, b, &upstream.Upstream{MaxConns: 1})
	// Warm up so the multiplexing answer is known before the pair.
	go func() {
		c := <-started
		id := <-ids
		c.write(append(stdout(id, "Content-Type: text/plain\r\n\r\nwarm"), endReq(id)...))
	}()
	if resp, body := httpGet(t, s.url("/warm.php")); resp.StatusCode != 200 || body != "warm" {
		t.Fatalf("warm-up: %d %q", resp.StatusCode, body)
	}
	leaver := s.dial(t)
	fmt.Fprintf(leaver, "GET /leave.php HTTP/1.1\r\nHost: t\r\n\r\n")
	conn := <-started
	idLeave := <-ids
	done := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.url("/stay.php"))
		if err != nil {
			done <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- fmt.Sprintf("%d %s", resp.StatusCode, body)
	}()
	if c2 := <-started; c2 != conn {
		t.Fatal("the second request did not share the connection (budget 1, multiplexing)")
	}
	idStay := <-ids
	leaver.Close()
	b.await(t, "FCGI_ABORT_REQUEST for the leaver", func(e rawEvent) bool { return e.typ == fastcgi.TypeAbortRequest && e.id == idLeave })
	// What Go's net/http/fcgi does: END at once, then the handler's output
	// and its own END.
	conn.write(endReq(idLeave))
	conn.write(stdout(idLeave, "Content-Type: text/plain\r\n\r\nLATE OUTPUT OF THE ABORTED HANDLER"))
	conn.write(endReq(idLeave))
	conn.write(append(stdout(idStay, "Content-Type: text/plain\r\n\r\nstay"), endReq(idStay)...))
	select {
	case got := <-done:
		if got != "200 stay" {
			t.Fatalf("the request sharing the connection got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the request sharing the connection never completed\n%s", logs)
	}
	b.await(t, "the connection with a quarantined ID closed", func(e rawEvent) bool { return e.typ == 0 && e.conn == conn.serial })
	waitConns(t, be, 0)
	if strings.Contains(logs.String(), "protocol error") {
		t.Fatalf("stray records of the aborted ID were taken for a protocol error:\n%s", logs)
	}
}

// TestGoFCGIClientAbort: against Go's net/http/fcgi, which answers an
// ABORT with END_REQUEST at once while its handler runs on and later
// writes output and a second END_REQUEST for the same ID: while another
// request keeps the connection alive, requests multiplexed on it before and
// while the late output arrives each get their own response, and the
// budget (one connection) is whole afterwards.
func TestGoFCGIClientAbort(t *testing.T) {
	started := make(chan struct{}, 2)
	release, holdRelease := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/leave.php", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first bytes\n")
		w.(http.Flusher).Flush()
		started <- struct{}{}
		<-release
		for i := 0; i < 50; i++ {
			io.WriteString(w, strings.Repeat("LATE OUTPUT OF THE ABORTED HANDLER\n", 100))
			w.(http.Flusher).Flush()
			time.Sleep(time.Millisecond)
		}
	})
	mux.HandleFunc("/hold.php", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-holdRelease
		io.WriteString(w, "held")
	})
	mux.HandleFunc("/n.php", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "n="+r.URL.Query().Get("n"))
	})
	u := &upstream.Upstream{MaxConns: 1}
	s, _ := startGoFCGI(t, mux, 1, u)
	check := func(round int) {
		var wg sync.WaitGroup
		errs := make(chan string, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i) * 2 * time.Millisecond)
				client := &http.Client{Timeout: 5 * time.Second}
				resp, err := client.Get(s.url(fmt.Sprintf("/n.php?n=%d", i)))
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != fmt.Sprintf("n=%d", i) {
					errs <- fmt.Sprintf("round %d #%d: %d %.60q", round, i, resp.StatusCode, body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
	check(0) // the connection is up and multiplexing is known
	held := make(chan string, 1)
	go func() {
		resp, body := httpGet(t, s.url("/hold.php"))
		held <- fmt.Sprint(resp.StatusCode, " ", body)
	}()
	<-started
	c := s.dial(t)
	fmt.Fprintf(c, "GET /leave.php HTTP/1.1\r\nHost: t\r\n\r\n")
	<-started
	c.Close()
	check(1) // the aborted handler still runs
	close(release)
	check(2) // its late output and second END arrive meanwhile
	close(holdRelease)
	if got := <-held; got != "200 held" {
		t.Fatalf("the request holding the connection got %q", got)
	}
	check(3)
	waitConns(t, u.Backends[0], 1)
}
