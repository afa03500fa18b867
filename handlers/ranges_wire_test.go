package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLargeFileMultiRangeOverTheWire: a multi-range request for a file
// above cache.max_file (1 MiB by default) gets 206 multipart/byteranges
// with exactly the bytes asked for, not the whole file with 200. The
// client reads through a 4 KiB receive buffer after a pause, so the
// server's writes stall between and inside the parts; a request pipelined
// behind it is answered after, which shows Content-Length framed the
// multipart body exactly.
func TestLargeFileMultiRangeOverTheWire(t *testing.T) {
	root := t.TempDir()
	var sb strings.Builder
	for i := 0; sb.Len() < 4<<20; i++ {
		fmt.Fprintf(&sb, "%09d\n", i) // every 10-byte line says where it is
	}
	big := sb.String()
	check(t, os.WriteFile(filepath.Join(root, "big.txt"), []byte(big), 0o644))
	check(t, os.WriteFile(filepath.Join(root, "small.txt"), []byte("after\n"), 0o644))
	addr := startStatic(t, root)

	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		_ = rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
		return err
	}}
	c, err := d.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	const ranges = "bytes=0-99, 1048576-2621439, -1000"
	_, err = io.WriteString(c, "GET /big.txt HTTP/1.1\r\nHost: t\r\nRange: "+ranges+"\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n")
	check(t, err)
	time.Sleep(300 * time.Millisecond) // the server's writes stall meanwhile
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)

	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	check(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	check(t, err)
	if resp.StatusCode != 206 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("%s: %d, Content-Length %d, %d body bytes (the file is %d)", ranges, resp.StatusCode, resp.ContentLength, len(body), len(big))
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
	size := len(big)
	for i, w := range []struct{ from, to int }{{0, 99}, {1048576, 2621439}, {size - 1000, size - 1}} {
		p, err := mr.NextPart()
		check(t, err)
		b, err := io.ReadAll(p)
		check(t, err)
		cr := fmt.Sprintf("bytes %d-%d/%d", w.from, w.to, size)
		if p.Header.Get("Content-Range") != cr || p.Header.Get("Content-Type") != "text/plain; charset=utf-8" || string(b) != big[w.from:w.to+1] {
			t.Fatalf("part %d: %v, %d bytes; want %s", i, p.Header, len(b), cr)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the last part: %v", err)
	}

	resp, err = http.ReadResponse(br, &http.Request{Method: "GET"})
	check(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(b) != "after\n" {
		t.Fatalf("pipelined request after the ranges: %d %q %v", resp.StatusCode, b, err)
	}
}
