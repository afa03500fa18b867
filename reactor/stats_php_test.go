package reactor_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestPHPStatsAndAccessLog: under real php-fpm, responses are counted by
// handler and status class (an X-Accel-Redirect as "internal"), the
// backend's latency and the static share are counted, and each request has
// one access log line with the backend's address and times, written when
// the response ends.
func TestPHPStatsAndAccessLog(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{})
	backends, err := upstream.ParseAddrs(fpm.Addr())
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "php", Backends: backends}
	logPath := filepath.Join(t.TempDir(), "access.log")
	al, err := reactor.OpenAccessLog(logPath, reactor.AccessCombined)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	cfg := reactor.Config{Loops: 1, AccessLog: al, Logger: slog.New(slog.NewTextHandler(&logBuffer{}, nil))}
	s := startWith(t, cfg, phpSite, u)

	for _, r := range []struct {
		path   string
		status int
	}{{"/hello.php", 200}, {"/status.php", 418}, {"/accel.php", 200}, {"/static.txt", 200}} {
		if resp, _ := httpGet(t, s.url(r.path)); resp.StatusCode != r.status {
			t.Fatalf("%s: %d, want %d", r.path, resp.StatusCode, r.status)
		}
	}
	st := s.srv.Stats()
	want := map[[2]int]uint64{
		{reactor.HandlerFastCGI, 2}:  1,
		{reactor.HandlerFastCGI, 4}:  1,
		{reactor.HandlerInternal, 2}: 1,
		{reactor.HandlerStatic, 2}:   1,
	}
	for h := range st.Requests {
		for c, n := range st.Requests[h] {
			if n != want[[2]int{h, c}] {
				t.Errorf("requests[%s][%dxx] = %d, want %d", reactor.HandlerNames[h], c, n, want[[2]int{h, c}])
			}
		}
	}
	b := st.Backends[backends[0]]
	if b == nil || b.Requests != 3 || b.Latency[len(b.Latency)-1] != 3 || b.SumSeconds <= 0 {
		t.Errorf("backend stats %+v: want 3 exchanges timed", b)
	}
	// accel.php's redirect read static.txt from disk; the request for it
	// then found it in the cache.
	if st.CacheHits != 1 || st.CacheMisses != 1 {
		t.Errorf("cache hits %d, misses %d, want 1 and 1", st.CacheHits, st.CacheMisses)
	}

	s.srv.FlushAccessLog()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	up := regexp.QuoteMeta(backends[0].String())
	pats := []string{
		`"GET /hello.php HTTP/1.1" 200 13 "-" "Go-http-client/1.1" \d+\.\d{3} "` + up + `" \d+\.\d{3}$`,
		`"GET /status.php HTTP/1.1" 418 6 "-" "Go-http-client/1.1" \d+\.\d{3} "` + up + `" \d+\.\d{3}$`,
		`"GET /accel.php HTTP/1.1" 200 11 "-" "Go-http-client/1.1" \d+\.\d{3} "` + up + `" \d+\.\d{3}$`,
		`"GET /static.txt HTTP/1.1" 200 11 "-" "Go-http-client/1.1" 0\.\d{3} "-" -$`,
	}
	if len(lines) != len(pats) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(pats), data)
	}
	for i, p := range pats {
		if !regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] ` + p).MatchString(lines[i]) {
			t.Errorf("line %d: %s\nwant %s", i, lines[i], p)
		}
	}
}
