//go:build !race

package reactor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gale-http/gale/handlers"
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
			static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
			if err != nil {
				b.Fatal(err)
			}
			defer static.Close()
			cfg := Config{Handler: static}
			if mode != "off" {
				f, _ := ParseAccessFormat(mode)
				al, err := OpenAccessLog(filepath.Join(b.TempDir(), "access.log"), f)
				if err != nil {
					b.Fatal(err)
				}
				defer al.Close()
				cfg.AccessLog = al
			}
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			l := newLoop(s, nil)
			mc := &memConn{}
			cs := &conn{gc: mc, fd: -1, l: l}
			cs.t.owner = cs
			// wrk's request, as in the bench harness.
			raw := []byte("GET /612.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
			b.ReportAllocs()
			for b.Loop() {
				mc.in = raw
				l.parseBatch(cs)
			}
			l.flushAccess()
		})
	}
}
