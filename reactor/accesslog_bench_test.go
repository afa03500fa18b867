//go:build !race

package reactor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCacheHitAccessLog is the cost of the access log on the static
// cache-hit path (parse, cache lookup, response, log line, flushes to a
// real file), in memory, without the kernel's share of a request: compare
// the sub-benchmarks' ns/op.
func BenchmarkCacheHitAccessLog(b *testing.B) {
	for _, mode := range []string{"off", "combined", "json"} {
		b.Run(mode, func(b *testing.B) {
			root := b.TempDir()
			os.WriteFile(filepath.Join(root, "612.bin"), bytes.Repeat([]byte{'x'}, 612), 0o644)
			var al *AccessLog
			if mode != "off" {
				f, _ := ParseAccessFormat(mode)
				var err error
				al, err = OpenAccessLog(filepath.Join(b.TempDir(), "access.log"), f)
				if err != nil {
					b.Fatal(err)
				}
				defer al.Close()
			}
			// wrk's request, as in the bench harness.
			r := newMemRig(b, root, al, "GET /612.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
			b.ReportAllocs()
			for b.Loop() {
				r.serve()
			}
			r.l.flushAccess()
		})
	}
}
