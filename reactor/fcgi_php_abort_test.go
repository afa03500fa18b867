package reactor_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/upstream"
)

func init() {
	// 60 s of output unless the client's departure ends it: php-fpm
	// notices only when a write to gale fails.
	phpSite["forever.php"] = `<?php
while (ob_get_level()) ob_end_flush();
echo str_repeat("x", 70000), "\n"; flush(); // past gale's head buffer: streamed from here
for ($i = 0; $i < 600; $i++) { echo str_repeat("x", 1024), "\n"; flush(); usleep(100000); }`
}

// TestPHPClientAbortFreesWorker: php-fpm with one worker, gale with a
// budget of one connection. A client leaves a script that would run for a
// minute: gale sends FCGI_ABORT_REQUEST and closes the connection, the
// script's next write fails and ends it (ignore_user_abort off), and the
// worker serves the next client within seconds, not after the minute.
func TestPHPClientAbortFreesWorker(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 1})
	u := &upstream.Upstream{MaxConns: 1, QueueTimeout: 30 * time.Second}
	s, logs := startPHP(t, fpm, u)
	c := s.dial(t)
	fmt.Fprintf(c, "GET /forever.php HTTP/1.1\r\nHost: t\r\n\r\n")
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 2048)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The deadline is a bound on a hang, not a timing target: a worker
	// pinned by the abandoned script would answer only after 60 s.
	client := &http.Client{Timeout: 15 * time.Second}
	r2, err := client.Get(s.url("/hello.php"))
	if err != nil {
		t.Fatalf("the only worker stayed pinned by the abandoned script: %v\n%s", err, lastLines(logs.String(), 10))
	}
	body, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || string(body) != "Hello, World!" {
		t.Fatalf("%d %q", r2.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "request aborted") {
		t.Fatalf("no abort logged:\n%s", lastLines(logs.String(), 10))
	}
}
