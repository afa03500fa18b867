package reactor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/reactor"
)

// TestPipelinedBehindStalledFile: a request pipelined behind a large file
// response that fills the socket (the client reads nothing for a while,
// through a small receive buffer) is answered once the file has drained,
// in order, without the client sending anything more.
func TestPipelinedBehindStalledFile(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 256<<10) // 4 MiB
	s := start(t, reactor.Config{Loops: 1}, map[string]string{"big.bin": big, "small.txt": "after"})
	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		_ = rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
		return err
	}}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the server's writes stall meanwhile
	br := bufio.NewReader(c)
	for _, want := range []string{big, "after"} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("waiting for the %d-byte response: %v", len(want), err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("status %d, %d bytes (want %d), %v", resp.StatusCode, len(body), len(want), err)
		}
	}
}
