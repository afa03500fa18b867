package handlers

import (
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
