//go:build !race

package reactor

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestCacheHitWithAccessLogAllocatesNothing: with the access log on (both
// formats), a static cache hit still allocates nothing, and the lines
// written are complete and right.
func TestCacheHitWithAccessLogAllocatesNothing(t *testing.T) {
	for _, f := range []struct {
		name   string
		format AccessFormat
		line   *regexp.Regexp
	}{
		{"combined", AccessCombined, regexp.MustCompile(`^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /style\.css HTTP/1\.1" 200 \d+ "http://localhost:8080/" "Mozilla/5\.0 \(X11; Linux x86_64\) [^"]*" \d+\.\d{3} "-" -$`)},
		{"json", AccessJSON, regexp.MustCompile(`^\{"time":"[^"]+","remote_addr":"127\.0\.0\.1","method":"GET","uri":"/style\.css","protocol":"HTTP/1\.1","host":"localhost:8080","status":200,"body_bytes_sent":\d+,"referer":"http://localhost:8080/","user_agent":"Mozilla[^"]*","request_time":\d+\.\d{3}\}$`)},
	} {
		t.Run(f.name, func(t *testing.T) {
			root := t.TempDir()
			css := bytes.Repeat([]byte("body { margin: 0 auto; color: #123456; }\n"), 200)
			if err := os.WriteFile(filepath.Join(root, "style.css"), css, 0o644); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(t.TempDir(), "access.log")
			al, err := OpenAccessLog(logPath, f.format)
			if err != nil {
				t.Fatal(err)
			}
			defer al.Close()
			r := newMemRig(t, root, al, browserGET)
			r.awaitCompressed(t, len(css))
			l := r.l
			l.flushAccess()
			allocs := testing.AllocsPerRun(1000, r.serve)
			if allocs != 0 {
				t.Fatalf("%.1f allocations per logged cache hit", allocs)
			}
			l.flushAccess()
			data, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
			if len(lines) < 1002 {
				t.Fatalf("%d lines logged, want at least 1002", len(lines))
			}
			for i, ln := range lines {
				if !f.line.Match(ln) {
					t.Fatalf("line %d does not match: %s", i, ln)
				}
			}
			if st := l.stats; st.requests[HandlerStatic][2] != uint64(len(lines)) || st.cacheHits < 1001 || st.cacheMisses != 1 {
				t.Fatalf("counters: %d 2xx static, %d hits, %d misses; want %d, >=1001, 1", st.requests[HandlerStatic][2], st.cacheHits, st.cacheMisses, len(lines))
			}
		})
	}
}
