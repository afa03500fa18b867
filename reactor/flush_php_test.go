package reactor_test

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestHeldStartFlushed: a PHP script under real php-fpm that prints a
// line, flushes it (ob_flush, flush) and works on reaches its client with
// that line at once, not when it ends (issue 16 item 7: progress output
// used to be held until 64 KiB or the end), and a quick one still goes
// out whole with a Content-Length.
func TestHeldStartFlushed(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	backends, err := upstream.ParseAddrs(fpm.Addr())
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "php", Backends: backends}
	s := startWith(t, reactor.Config{}, map[string]string{
		"progress.php": `<?php echo "step 1\n"; ob_flush(); flush(); usleep(800000); echo "step 2\n";`,
		"quick.php":    `<?php echo "a"; ob_flush(); flush(); echo "b";`,
	}, u)
	c := s.dial(t)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	began := time.Now()
	if _, err := io.WriteString(c, "GET /progress.php HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := make([]byte, len("step 1\n"))
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "step 1\n" {
		t.Fatalf("first line %q %v", line, err)
	}
	if took := time.Since(began); took > 500*time.Millisecond {
		t.Errorf("the first line came after %v: held while the script worked", took)
	}
	if rest, err := io.ReadAll(resp.Body); err != nil || string(rest) != "step 2\n" {
		t.Fatalf("rest %q %v", rest, err)
	}
	resp, body := roundTrip(t, c, br, "GET /quick.php HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
	if body != "ab" || resp.ContentLength != 2 {
		t.Errorf("quick: %q with length %d, want \"ab\" with a Content-Length", body, resp.ContentLength)
	}
}
