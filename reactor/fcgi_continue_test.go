package reactor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestContinueAfterEarlierResponses: a GET for a static file and a POST
// with Expect: 100-continue arrive in one segment. The GET's response must
// come first, then 100 Continue, then the POST's (RFC 9112 §9.3.2);
// 100 Continue used to be written straight to the socket, ahead of the
// GET's response still waiting in the batch.
func TestContinueAfterEarlierResponses(t *testing.T) {
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		fcgi.Serve(nl, http.HandlerFunc(echoSum))
	}()
	t.Cleanup(func() { nl.Close(); <-served })
	backends, err := upstream.ParseAddrs(nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "go", Backends: backends}
	s := startWith(t, reactor.Config{Loops: 1}, map[string]string{"a.txt": "static A\n", "x.php": ""}, u)

	c := s.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /x.php HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	first, err := br.Peek(12)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != "HTTP/1.1 200" {
		t.Fatalf("first response begins %q, want the GET's 200 (100 Continue overtook it)", first)
	}
	resp, got := roundTrip(t, c, br, "", "GET")
	if resp.StatusCode != 200 || got != "static A\n" {
		t.Fatalf("GET: %d %q", resp.StatusCode, got)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("second response line %q (%v), want 100 Continue", line, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q", blank)
	}
	io.WriteString(c, "hello")
	resp, got = roundTrip(t, c, br, "", "POST")
	if resp.StatusCode != 200 || !strings.HasPrefix(got, "hello") {
		t.Fatalf("POST: %d %q", resp.StatusCode, got)
	}
}
