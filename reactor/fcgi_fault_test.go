package reactor_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/upstream/fastcgi"
)

// TestFCGIBackendGarbage: a backend that breaks the protocol gets its
// client a 502 and a log line naming it; the connection is closed, never
// reused, and the request is not resent to it.
func TestFCGIBackendGarbage(t *testing.T) {
	cases := []struct {
		name string
		out  func(id uint16) []byte
	}{
		// Version byte 'H': an HTTP server, not a FastCGI application.
		{"not fastcgi", func(uint16) []byte { return []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi") }},
		// Version 2 in an otherwise fine record.
		{"bad version", func(id uint16) []byte { b := stdout(id, "Status: 200\r\n\r\nok"); b[0] = 2; return b }},
		// A STDOUT record promising 100 bytes, 10 sent, then the close.
		{"truncated record", func(id uint16) []byte {
			return append(fastcgi.AppendHeader(nil, fastcgi.TypeStdout, id, 100, 0), "Status: 20"...)
		}},
		// Output for a request ID gale never sent.
		{"unknown id", func(id uint16) []byte { return stdout(id+7, "Status: 200\r\n\r\nok") }},
		// END_REQUEST with 4 bytes of body instead of 8.
		{"short end", func(id uint16) []byte {
			return append(stdout(id, "Status: 200\r\n\r\nok"), append(fastcgi.AppendHeader(nil, fastcgi.TypeEndRequest, id, 4, 0), 0, 0, 0, 0)...)
		}},
		// A record type that has no business coming from an application.
		{"begin from app", func(id uint16) []byte { return fastcgi.AppendBeginRequest(nil, id, 1, true) }},
		// A malformed CGI head inside good records.
		{"bad cgi head", func(id uint16) []byte { return append(stdout(id, "Status: abc\r\n\r\nok"), endReq(id)...) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var good atomic.Bool
			b := startRawBackend(t, false, func(c *rawConn, id uint16) {
				if good.Load() {
					c.write(append(stdout(id, "Content-Type: text/plain\r\n\r\nfine"), endReq(id)...))
					return
				}
				c.write(tc.out(id))
				if tc.name == "truncated record" {
					c.Close()
				}
			})
			s, logs, be := startRaw(t, b, nil)
			c := s.dial(t)
			fmt.Fprintf(c, "GET /x.php HTTP/1.1\r\nHost: t\r\n\r\n")
			br := bufio.NewReader(c)
			resp, body := roundTrip(t, c, br, "", "GET")
			if resp.StatusCode != 502 || strings.Contains(body, "ok") || strings.Contains(body, "hi") {
				t.Fatalf("got %d %q, want 502 without the backend's bytes", resp.StatusCode, body)
			}
			// The bad connection is closed by gale (the backend sees EOF)...
			first := b.await(t, "the bad connection closed", func(e rawEvent) bool { return e.typ == 0 })
			if begins, _ := b.counts(); begins != 1 {
				t.Fatalf("the request went to the backend %d times; a broken response is not resent", begins)
			}
			if !strings.Contains(logs.String(), "backend="+b.ln.Addr().String()) || !strings.Contains(logs.String(), "level=ERROR") {
				t.Fatalf("no error log line naming the backend:\n%s", logs)
			}
			waitConns(t, be, 0)
			// ...and the next request gets a fresh connection and its answer.
			good.Store(true)
			c = s.dial(t) // the 502 closed the first
			resp, body = roundTrip(t, c, bufio.NewReader(c), "GET /x.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
			if resp.StatusCode != 200 || body != "fine" {
				t.Fatalf("after the fault: %d %q", resp.StatusCode, body)
			}
			if _, conns := b.counts(); conns != 2 {
				t.Fatalf("%d request connections, want 2 (the broken one, conn %d, must not be reused)", conns, first.conn)
			}
		})
	}
}

// TestFCGIBackendClosesMidResponse: when the backend's output stops short
// (a close, or an END_REQUEST before the Content-Length it announced), the
// client never gets a truncated body passed off as complete: 502 while no
// head went out; after the head, no terminating chunk and a close, or a
// close before the announced length.
func TestFCGIBackendClosesMidResponse(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 200<<10/16) // 200 KiB: beyond the head buffer
	cases := []struct {
		name string
		out  func(id uint16) []byte
		end  bool // END_REQUEST instead of a close
		// check inspects the raw bytes the client got until EOF.
		check func(t *testing.T, raw []byte)
	}{
		{"close inside the head", func(id uint16) []byte { return stdout(id, "Content-Type: text/plain\r\nX-Half: ") }, false,
			func(t *testing.T, raw []byte) {
				if !bytes.HasPrefix(raw, []byte("HTTP/1.1 502 ")) || bytes.Contains(raw, []byte("X-Half")) {
					t.Fatalf("want a 502 without the partial head, got %q", clip(raw))
				}
			}},
		// The start of a body is held for the flush delay only (it went
		// out by the time the backend closed): then a cut chunked stream.
		{"close after a held start", func(id uint16) []byte { return stdout(id, "Content-Type: text/plain\r\n\r\n"+big[:1000]) }, false,
			func(t *testing.T, raw []byte) {
				head, body := splitHead(t, raw)
				got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
				if !strings.Contains(head, "Transfer-Encoding: chunked") || err != io.ErrUnexpectedEOF || string(got) != big[:1000] {
					t.Fatalf("head %q, body %d bytes, %v: want the 1000 bytes in a cut chunked stream", head, len(got), err)
				}
			}},
		{"close mid chunked", func(id uint16) []byte { return stdout(id, "Content-Type: text/plain\r\n\r\n"+big) }, false,
			func(t *testing.T, raw []byte) {
				head, body := splitHead(t, raw)
				if !strings.Contains(head, "Transfer-Encoding: chunked") {
					t.Fatalf("head %q", head)
				}
				got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
				if err != io.ErrUnexpectedEOF {
					t.Fatalf("chunked body of %d bytes ended with %v: want a cut stream (no 0-chunk)", len(got), err)
				}
				if !strings.HasPrefix(big, string(got)) {
					t.Fatal("the bytes that came are not the backend's")
				}
			}},
		{"close before content-length", func(id uint16) []byte {
			return stdout(id, fmt.Sprintf("Content-Length: %d\r\n\r\n", len(big)+1000)+big)
		}, false, func(t *testing.T, raw []byte) {
			head, body := splitHead(t, raw)
			if !strings.Contains(head, fmt.Sprintf("Content-Length: %d", len(big)+1000)) || len(body) >= len(big)+1000 {
				t.Fatalf("head %q, %d body bytes: want a close before the announced length", head, len(body))
			}
		}},
		{"end before content-length", func(id uint16) []byte {
			return stdout(id, fmt.Sprintf("Content-Length: %d\r\n\r\n", len(big)+1000)+big)
		}, true, func(t *testing.T, raw []byte) {
			head, body := splitHead(t, raw)
			if !strings.Contains(head, fmt.Sprintf("Content-Length: %d", len(big)+1000)) || len(body) >= len(big)+1000 {
				t.Fatalf("head %q, %d body bytes: want a close before the announced length", head, len(body))
			}
		}},
		{"end before content-length, small", func(id uint16) []byte {
			return stdout(id, "Content-Length: 100\r\n\r\nonly fifty bytes.................................")
		}, true, func(t *testing.T, raw []byte) {
			if !bytes.HasPrefix(raw, []byte("HTTP/1.1 502 ")) || bytes.Contains(raw, []byte("only fifty")) {
				t.Fatalf("want a 502, got %q", clip(raw))
			}
		}},
		{"more than content-length", func(id uint16) []byte {
			return stdout(id, "Content-Length: 5\r\n\r\nhelloEXTRA BYTES THAT WOULD START THE NEXT RESPONSE")
		}, true, func(t *testing.T, raw []byte) {
			head, body := splitHead(t, raw)
			if !strings.Contains(head, "Content-Length: 5\r\n") || string(body) != "hello" {
				t.Fatalf("head %q body %q: want exactly the 5 announced bytes, then the close", head, body)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startRawBackend(t, false, func(c *rawConn, id uint16) {
				c.write(tc.out(id))
				if tc.end {
					c.write(endReq(id))
					return
				}
				time.Sleep(50 * time.Millisecond) // let gale take the bytes
				c.Close()
			})
			s, _, be := startRaw(t, b, nil)
			_ = be
			c := s.dial(t)
			fmt.Fprintf(c, "GET /x.php HTTP/1.1\r\nHost: t\r\n\r\n")
			raw, err := readAll(t, c, 5*time.Second)
			if err != nil {
				t.Fatalf("the connection was not closed (%d bytes, %v): a client would wait for the rest forever", len(raw), err)
			}
			tc.check(t, raw)
			if !tc.end {
				waitConns(t, be, 0) // nothing left of the dead connection
			}
		})
	}
}

// splitHead splits a raw response at the end of its head.
func splitHead(t *testing.T, raw []byte) (string, []byte) {
	t.Helper()
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 || !bytes.HasPrefix(raw, []byte("HTTP/1.1 200 ")) {
		t.Fatalf("want a 200 head, got %q", clip(raw))
	}
	return string(raw[:i+4]), raw[i+4:]
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

var _ = http.StatusOK
