package handlers

import (
	"go/build"
	"os"
	"path/filepath"
	"testing"
)

// benchServe serves one cached request per iteration, serially or from
// every P, the way event loops share the cache.
func benchServe(b *testing.B, parallel bool, headers ...string) {
	root := b.TempDir()
	writeFile(b, root, "index.html", compressible)
	s := newStatic(b, root, nil)
	req := parseReq(b, "GET", "/index.html", headers...)
	warm(b, s, "/index.html")
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		ctx := &Ctx{Scratch: make([]byte, 0, 4096)}
		var resp Response
		for b.Loop() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			s.Serve(ctx, req, &resp)
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		ctx := &Ctx{Scratch: make([]byte, 0, 4096)}
		var resp Response
		for pb.Next() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			s.Serve(ctx, req, &resp)
		}
	})
}

func BenchmarkStaticHit(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchServe(b, false) })
	b.Run("parallel", func(b *testing.B) { benchServe(b, true) })
}

func BenchmarkStaticHitGzip(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchServe(b, false, "Accept-Encoding: gzip, deflate, br") })
	b.Run("parallel", func(b *testing.B) { benchServe(b, true, "Accept-Encoding: gzip, deflate, br") })
}

func BenchmarkStaticNotModified(b *testing.B) {
	benchServe(b, true, "If-None-Match: "+etagOf(len(compressible)))
}

func BenchmarkStaticRange(b *testing.B) {
	benchServe(b, true, "Range: bytes=100-999")
}

// BenchmarkCompressVariants measures what the background compressor spends
// on one file of CacheMaxFile's default size (1 MiB) of real text, the Go
// sources of net/http: the "tens of milliseconds" per coding that keep
// variant building off the event loops (compressor.go).
func BenchmarkCompressVariants(b *testing.B) {
	var body []byte
	files, _ := filepath.Glob(filepath.Join(build.Default.GOROOT, "src", "net", "http", "*.go"))
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if body = append(body, d...); len(body) >= 1<<20 {
			break
		}
	}
	if len(body) < 1<<20 {
		b.Skipf("only %d bytes of Go sources under GOROOT", len(body))
	}
	body = body[:1<<20]
	for _, enc := range [...]int{encGzip, encZstd} {
		b.Run(encName[enc], func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				compressBody(enc, body)
			}
		})
	}
}
