package reactor_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// cacheSite is a PHP application that counts its runs in a file.
var cacheSite = map[string]string{
	"slow.php":  `<?php file_put_contents(__DIR__."/runs", "x", FILE_APPEND|LOCK_EX); usleep(200000); header("Cache-Control: max-age=60"); echo "slow page";`,
	"micro.php": `<?php file_put_contents(__DIR__."/runs", "x", FILE_APPEND|LOCK_EX); echo "micro page";`,
}

// startCachedPHP runs gale with a front controller to real php-fpm under
// the cache policy p; runs reports how many times PHP ran a script.
func startCachedPHP(t *testing.T, fpm *testenv.PHPFPM, p *handlers.CachePolicy) (s *server, runs func() int) {
	t.Helper()
	root := t.TempDir()
	for name, content := range cacheSite {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := upstream.ParseAddrs(fpm.Addr())
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "php", Backends: bs}
	u.Init(2)
	static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { static.Close() })
	if p.Cache == nil {
		p.Cache = handlers.NewRespCache(8<<20, 1<<20)
	}
	if p.LockTimeout == 0 {
		p.LockTimeout = 5 * time.Second
	}
	rt := &handlers.Router{}
	rt.Handle("/", &handlers.Cached{Handler: handlers.NewFrontController(static, u, root), Policy: p})
	s = startWith(t, reactor.Config{Handler: rt}, nil, nil)
	return s, func() int {
		b, _ := os.ReadFile(filepath.Join(root, "runs"))
		return len(b)
	}
}

// TestCachePHPStampede: 30 concurrent requests for a cold page that
// takes PHP 200 ms run it once; the others wait for that run and get its
// page, on both loops, without polling (well under nginx's 500 ms tick).
func TestCachePHPStampede(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 4})
	s, runs := startCachedPHP(t, fpm, &handlers.CachePolicy{})
	var wg sync.WaitGroup
	start := time.Now()
	var mu sync.Mutex
	var slowest time.Duration
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			resp, body := httpGet(t, s.url("/slow.php"))
			if resp.StatusCode != 200 || body != "slow page" {
				t.Errorf("%d %q", resp.StatusCode, body)
			}
			mu.Lock()
			slowest = max(slowest, time.Since(t0))
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := runs(); n != 1 {
		t.Fatalf("PHP ran the page %d times, want 1", n)
	}
	if slowest > 2*time.Second {
		t.Fatalf("slowest request took %v (started %v ago)", slowest, time.Since(start))
	}
}

// TestCachePHPMicroCacheAndStaleIfError: a page without cache headers is
// micro-cached for the TTL; once php-fpm is gone, the stale page stands in
// within stale-if-error.
func TestCachePHPMicroCacheAndStaleIfError(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{})
	s, runs := startCachedPHP(t, fpm, &handlers.CachePolicy{TTL: time.Second, StaleIfError: time.Minute})
	for i := 0; i < 5; i++ {
		if resp, body := httpGet(t, s.url("/micro.php")); resp.StatusCode != 200 || body != "micro page" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	if n := runs(); n != 1 {
		t.Fatalf("PHP ran %d times within the TTL, want 1", n)
	}
	time.Sleep(1100 * time.Millisecond)
	fpm.Stop()
	resp, body := httpGet(t, s.url("/micro.php"))
	if resp.StatusCode != 200 || body != "micro page" || !strings.Contains(resp.Header.Get("Cache-Status"), "stale-if-error") {
		t.Fatalf("php-fpm down: %d %q %q", resp.StatusCode, body, resp.Header.Get("Cache-Status"))
	}
}
