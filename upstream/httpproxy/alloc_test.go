//go:build !race

package httpproxy

import (
	"testing"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

type nopStream struct{}

func (nopStream) Head(upstream.ResponseHead) error { return nil }
func (nopStream) HeadRequest() bool                { return false }
func (nopStream) UpgradeRequest() bool             { return false }
func (nopStream) Data([]byte) error                { return nil }
func (nopStream) Log([]byte)                       {}
func (nopStream) End(uint32, uint8)                {}

// A request head and a response cost no allocation once warm.
func TestAllocs(t *testing.T) {
	ri := cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("/a?b"), RemoteAddr: []byte("10.1.2.3"),
		Headers: fields("Host", "example.org", "User-Agent", "Mozilla/5.0", "Accept", "*/*", "Connection", "keep-alive")}
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { dst = Protocol.EncodeHead(dst[:0], &ri, -1) }); n != 0 {
		t.Errorf("EncodeHead: %v allocations", n)
	}
	c := Protocol.NewConn(1)
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	var s upstream.Stream = nopStream{}
	if n := testing.AllocsPerRun(100, func() {
		c.Begin(s)
		if k, err := c.Feed(resp); err != nil || k != len(resp) {
			t.Fatal(k, err)
		}
	}); n != 0 {
		t.Errorf("Feed: %v allocations", n)
	}
}
