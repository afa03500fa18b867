package handlers

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/httpcodec"
)

// fixedTime is the mtime given to test files, for exact Last-Modified bytes.
var fixedTime = time.Date(2024, 3, 5, 7, 9, 11, 123456789, time.UTC)

const fixedLastMod = "Tue, 05 Mar 2024 07:09:11 GMT"

// writeFile creates root/rel with body and the fixed mtime.
func writeFile(t testing.TB, root, rel, body string) string {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fixedTime, fixedTime); err != nil {
		t.Fatal(err)
	}
	return p
}

// etagOf is the identity ETag gale computes for a file of size bytes with
// the fixed mtime.
func etagOf(size int) string {
	return `"` + strconv.FormatInt(int64(size), 16) + "-" + strconv.FormatInt(fixedTime.UnixNano(), 16) + `"`
}

// newStatic builds a Static over root with defaults changed by mod.
func newStatic(t testing.TB, root string, mod func(*StaticConfig)) *Static {
	t.Helper()
	cfg := DefaultStaticConfig(root)
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewStatic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// parseReq parses a request head with the real parser; headers are full
// "Name: value" lines.
func parseReq(t testing.TB, method, target string, headers ...string) *httpcodec.Request {
	t.Helper()
	raw := method + " " + target + " HTTP/1.1\r\nHost: test\r\n"
	for _, h := range headers {
		raw += h + "\r\n"
	}
	raw += "\r\n"
	var p httpcodec.Parser
	p.Limits = httpcodec.DefaultLimits()
	req := new(httpcodec.Request)
	if _, err := p.Parse([]byte(raw), req); err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return req
}

// result is a response as the reactor would put it on the wire, minus the
// Date and Connection lines.
type result struct {
	resp *Response
	head string
	body string
}

// serve runs h on a request and renders the response, reading the file
// ranges (and closing the file) like the reactor does.
func serve(t testing.TB, h Handler, method, target string, headers ...string) result {
	t.Helper()
	return serveReq(t, h, parseReq(t, method, target, headers...))
}

// serveReq is serve for a prepared request.
func serveReq(t testing.TB, h Handler, req *httpcodec.Request) result {
	t.Helper()
	resp := new(Response)
	resp.Reset()
	h.Serve(&Ctx{}, req, resp)
	var body strings.Builder
	for _, b := range resp.Body {
		body.Write(b)
	}
	if resp.File != nil {
		b, err := io.ReadAll(io.NewSectionReader(resp.File, resp.FileOff, resp.FileLen))
		if err != nil {
			t.Fatal(err)
		}
		body.Write(b)
		for _, p := range resp.FileMore {
			body.Write(p.Pre)
			b, err := io.ReadAll(io.NewSectionReader(resp.File, p.Off, p.Len))
			if err != nil {
				t.Fatal(err)
			}
			body.Write(b)
		}
		resp.File.Close()
	}
	return result{resp: resp, head: string(resp.Head), body: body.String()}
}

// header returns the value of the first field line named name in head.
func header(head, name string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

// warm serves target once and waits (bounded) until the background
// compressor has published its variants.
func warm(t testing.TB, s *Static, target string, headers ...string) {
	t.Helper()
	req := parseReq(t, "GET", target, headers...)
	serveReq(t, s, req)
	for range 500 {
		if e := s.cache.get(req.Path); e != nil && !e.compressPending {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: variants not built in 1 s", target)
}
