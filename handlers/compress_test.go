package handlers

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func TestPreferredEncodings(t *testing.T) {
	const z, g, i = encZstd, encGzip, encIdentity
	for _, tc := range []struct {
		ae   string
		want []int
	}{
		{"", []int{i}},
		{"gzip", []int{g, i}},
		{"gzip, zstd", []int{z, g, i}},
		{"zstd, gzip", []int{z, g, i}},
		{"gzip;q=1.0, zstd;q=0.5", []int{g, z, i}},
		{"gzip;q=0, zstd;q=0", []int{i}},
		{"zstd;q=0, *", []int{g, i}},
		{"*", []int{z, g, i}},
		{"*;q=0.5, identity", []int{i, z, g}},
		{"identity;q=0.7, gzip;q=0.5", []int{i, g}},
		{"identity;q=0, gzip", []int{g, i}},
		{"x-gzip", []int{g, i}},
		{"GZIP ; Q=0.8 , br", []int{g, i}},
		{"gzip;q=2, zstd", []int{z, i}},      // malformed q: element skipped
		{"gzip;q=0.1234, zstd", []int{z, i}}, // too many digits
		{"gzip;level=1;q=0.9", []int{g, i}},  // other parameters
		{"deflate, br", []int{i}},
	} {
		var dst [numEnc]int
		got := preferredEncodings([]byte(tc.ae), &dst)
		if tc.ae == "" {
			got = preferredEncodings(nil, &dst)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %v, want %v", tc.ae, got, tc.want)
			continue
		}
		for k := range got {
			if got[k] != tc.want[k] {
				t.Errorf("%q: %v, want %v", tc.ae, got, tc.want)
				break
			}
		}
	}
}

// compressible is text that compresses well but not trivially.
var compressible = strings.Repeat("gale serves static files from memory; ", 100)

func TestCompressedVariants(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	s := newStatic(t, root, nil)
	warm(t, s, "/app.js")
	etag := etagOf(len(compressible))
	for _, tc := range []struct {
		ae, coding string
		decode     func([]byte) ([]byte, error)
	}{
		{"gzip", "gzip", gunzip},
		{"gzip, zstd", "zstd", unzstd},
		{"zstd;q=0.5, gzip", "gzip", gunzip},
		{"br", "", nil},
	} {
		r := serve(t, s, "GET", "/app.js", "Accept-Encoding: "+tc.ae)
		if got := header(r.head, "Content-Encoding"); got != tc.coding {
			t.Errorf("%q: Content-Encoding %q", tc.ae, got)
			continue
		}
		if header(r.head, "Vary") != "Accept-Encoding" || header(r.head, "Content-Length") != itoa(len(r.body)) {
			t.Errorf("%q: head %q", tc.ae, r.head)
		}
		if tc.decode == nil {
			if r.body != compressible || header(r.head, "ETag") != etag {
				t.Errorf("identity: %q", r.head)
			}
			continue
		}
		wantTag := etag[:len(etag)-1] + encETagSuffix[map[string]int{"gzip": encGzip, "zstd": encZstd}[tc.coding]] + `"`
		if header(r.head, "ETag") != wantTag {
			t.Errorf("%q: ETag %q, want %q", tc.ae, header(r.head, "ETag"), wantTag)
		}
		if len(r.body) >= len(compressible) {
			t.Errorf("%q: not smaller", tc.ae)
		}
		plain, err := tc.decode([]byte(r.body))
		if err != nil || string(plain) != compressible {
			t.Errorf("%q: decode %v", tc.ae, err)
		}
		// A 304 for the coded representation needs its own ETag.
		nm := serve(t, s, "GET", "/app.js", "Accept-Encoding: "+tc.ae, "If-None-Match: "+wantTag)
		if nm.resp.Status != 304 || header(nm.head, "ETag") != wantTag {
			t.Errorf("%q: 304 %q", tc.ae, nm.head)
		}
	}
}

func TestCompressionSkipped(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "small.css", "a{}")
	writeFile(t, root, "pic.png", compressible)
	writeFile(t, root, "random.txt", string(noise(4096)))
	s := newStatic(t, root, nil)
	off := newStatic(t, root, func(c *StaticConfig) { c.Compress = false })
	for _, tc := range []struct {
		h    *Static
		path string
	}{{s, "/small.css"}, {s, "/pic.png"}, {s, "/random.txt"}, {off, "/random.txt"}} {
		warm(t, tc.h, tc.path)
		r := serve(t, tc.h, "GET", tc.path, "Accept-Encoding: gzip, zstd")
		if header(r.head, "Content-Encoding") != "" {
			t.Errorf("%s: compressed: %q", tc.path, r.head)
		}
	}
}

func TestSidecarPreferred(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.css", compressible)
	side := gzipBytes([]byte("SIDECAR " + compressible[:50]))
	writeFile(t, root, "a.css.gz", string(side))
	s := newStatic(t, root, nil)
	r := serve(t, s, "GET", "/a.css", "Accept-Encoding: gzip")
	if r.body != string(side) || header(r.head, "Content-Encoding") != "gzip" {
		t.Fatalf("sidecar not served: %q", r.head)
	}
	// An older sidecar is stale: the handler compresses the file itself.
	root2 := t.TempDir()
	writeFile(t, root2, "a.css", compressible)
	p := writeFile(t, root2, "a.css.gz", string(side))
	old := fixedTime.Add(-time.Hour)
	os.Chtimes(p, old, old)
	s2 := newStatic(t, root2, nil)
	warm(t, s2, "/a.css")
	r = serve(t, s2, "GET", "/a.css", "Accept-Encoding: gzip")
	if plain, err := gunzip([]byte(r.body)); err != nil || string(plain) != compressible {
		t.Fatalf("stale sidecar served: %v", err)
	}
}

func TestSidecarForLargeFile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "big.js", compressible)
	side := gzipBytes([]byte(compressible))
	writeFile(t, root, "big.js.gz", string(side))
	s := newStatic(t, root, func(c *StaticConfig) { c.CacheMaxFile = 64 })
	r := serve(t, s, "GET", "/big.js", "Accept-Encoding: gzip, zstd")
	if r.resp.File == nil || r.body != string(side) || header(r.head, "Content-Encoding") != "gzip" ||
		header(r.head, "Content-Length") != itoa(len(side)) {
		t.Fatalf("large sidecar: %q", r.head)
	}
	r = serve(t, s, "GET", "/big.js", "Accept-Encoding: zstd")
	if r.body != compressible || header(r.head, "Content-Encoding") != "" || header(r.head, "Vary") != "Accept-Encoding" {
		t.Fatalf("no zstd sidecar: %q", r.head)
	}
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func unzstd(b []byte) ([]byte, error) {
	d, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.DecodeAll(b, nil)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// noise is incompressible, deterministic bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestVariantsBuiltInBackground(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	s := newStatic(t, root, nil)
	first := serve(t, s, "GET", "/app.js", "Accept-Encoding: gzip")
	// Whichever representation the first response got, it is complete.
	if first.resp.Status != 200 || header(first.head, "Content-Length") != itoa(len(first.body)) {
		t.Fatalf("%q", first.head)
	}
	warm(t, s, "/app.js")
	e := s.cache.get([]byte("/app.js"))
	if !e.reps[encGzip].ok || !e.reps[encZstd].ok || e.cost != s.cache.total.Load() {
		t.Fatalf("variants %v %v, cost %d total %d", e.reps[encGzip].ok, e.reps[encZstd].ok, e.cost, s.cache.total.Load())
	}
	// The replacement is what the watcher tracks now.
	must(t, os.WriteFile(filepath.Join(root, "app.js"), []byte("changed"), 0o644))
	for range 110 {
		if s.cache.get([]byte("/app.js")) == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("replaced entry not invalidated")
}
