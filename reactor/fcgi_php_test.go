package reactor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// phpSite is the application the FastCGI tests run under real php-fpm.
var phpSite = map[string]string{
	"static.txt": "plain file\n",
	"hello.php":  `<?php echo "Hello, World!";`,
	"env.php": `<?php
foreach (["SCRIPT_NAME","PATH_INFO","QUERY_STRING","REQUEST_METHOD","REQUEST_URI","HTTP_X_FOO","HTTP_PROXY","CONTENT_TYPE","CONTENT_LENGTH","SERVER_PROTOCOL","GATEWAY_INTERFACE","REMOTE_ADDR","DOCUMENT_URI"] as $k) {
  echo $k, "=", isset($_SERVER[$k]) ? $_SERVER[$k] : "<unset>", "\n";
}`,
	"status.php":   `<?php http_response_code(418); echo "teapot";`,
	"redirect.php": `<?php header("Location: https://example.com/elsewhere");`,
	"cookies.php":  `<?php setcookie("a", "1"); setcookie("b", "2"); setcookie("c", "3"); echo "ok";`,
	"stderr.php":   `<?php error_log("gale-stderr-marker"); echo "logged";`,
	"sum.php":      `<?php $b = file_get_contents("php://input"); echo strlen($b), " ", hash("sha256", $b);`,
	"form.php":     `<?php echo $_POST["name"], "|", $_POST["city"];`,
	"big.php":      `<?php $chunk = str_repeat("0123456789abcdef", 65536); for ($i = 0; $i < 50; $i++) { echo $chunk; }`,
	"sleep.php":    `<?php usleep((int)$_GET["ms"] * 1000); echo "slept";`,
	"echo.php":     `<?php usleep((int)($_GET["us"] ?? 0)); echo "id=", $_GET["id"];`,
	"index.php":    `<?php echo "front:", $_SERVER["REQUEST_URI"];`,
	"accel.php":    `<?php header("X-Accel-Redirect: /static.txt"); echo "the application's body is replaced";`,
	"local.php":    `<?php header("Location: /static.txt");`,
}

// logBuffer collects the error log of an in-process gale.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startPHP(t *testing.T, fpm *testenv.PHPFPM, u *upstream.Upstream) (*server, *logBuffer) {
	t.Helper()
	return startPHPLoops(t, fpm, u, phpLoops)
}

// startPHPLoops is startPHP on a given number of event loops.
func startPHPLoops(t *testing.T, fpm *testenv.PHPFPM, u *upstream.Upstream, loops int) (*server, *logBuffer) {
	t.Helper()
	backends, err := upstream.ParseAddrs(fpm.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if u == nil {
		u = &upstream.Upstream{}
	}
	if u.Pipeline == 0 {
		u.Pipeline = 2 // as configured by default (internal/config)
	}
	u.Name, u.Backends = "php", backends
	logs := &logBuffer{}
	cfg := reactor.Config{Loops: loops, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	return startWith(t, cfg, phpSite, u), logs
}

func httpGet(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// httpPost posts payload to url, with a Content-Length or, when chunked,
// as a reader of unknown length (so the client sends it chunked).
func httpPost(t *testing.T, url string, payload []byte, chunked bool) (*http.Response, string) {
	t.Helper()
	var body io.Reader = bytes.NewReader(payload)
	if chunked {
		body = io.MultiReader(body)
	}
	req, _ := http.NewRequest("POST", url, body)
	if chunked {
		req.ContentLength = -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("chunked=%v: reading the response: %v", chunked, err)
	}
	return resp, string(b)
}

func TestPHPRequestsAndResponses(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		t.Run(fmt.Sprintf("tcp=%v", tcp), func(t *testing.T) {
			fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{TCP: tcp})
			s, logs := startPHP(t, fpm, nil)

			if resp, body := httpGet(t, s.url("/hello.php")); resp.StatusCode != 200 || body != "Hello, World!" || resp.ContentLength != 13 {
				t.Fatalf("hello: %d %q len=%d", resp.StatusCode, body, resp.ContentLength)
			}
			_, body := httpGet(t, s.url("/env.php/extra/path?a=1&b=%20"), "X-Foo", "bar", "Proxy", "http://evil:1")
			for _, want := range []string{"SCRIPT_NAME=/env.php\n", "PATH_INFO=/extra/path\n", "QUERY_STRING=a=1&b=%20\n",
				"REQUEST_METHOD=GET\n", "REQUEST_URI=/env.php/extra/path?a=1&b=%20\n", "HTTP_X_FOO=bar\n", "HTTP_PROXY=<unset>\n",
				"SERVER_PROTOCOL=HTTP/1.1\n", "GATEWAY_INTERFACE=CGI/1.1\n", "REMOTE_ADDR=127.0.0.1\n", "DOCUMENT_URI=/env.php/extra/path\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("env.php: missing %q in\n%s", want, body)
				}
			}
			if resp, body := httpGet(t, s.url("/status.php")); resp.StatusCode != 418 || body != "teapot" {
				t.Errorf("status: %d %q", resp.StatusCode, body)
			}
			if resp, _ := httpGet(t, s.url("/redirect.php")); resp.StatusCode != 302 || resp.Header.Get("Location") != "https://example.com/elsewhere" {
				t.Errorf("redirect: %d %v", resp.StatusCode, resp.Header)
			}
			if resp, _ := httpGet(t, s.url("/cookies.php")); len(resp.Header.Values("Set-Cookie")) != 3 {
				t.Errorf("cookies: %v", resp.Header.Values("Set-Cookie"))
			}
			if resp, body := httpGet(t, s.url("/accel.php")); resp.StatusCode != 200 || body != "plain file\n" {
				t.Errorf("X-Accel-Redirect: %d %q", resp.StatusCode, body)
			}
			// PHP adds "Status: 302" to a Location header, so it is no CGI
			// local redirect (RFC 3875 6.2.2): the client gets the 302.
			if resp, _ := httpGet(t, s.url("/local.php")); resp.StatusCode != 302 || resp.Header.Get("Location") != "/static.txt" {
				t.Errorf("Location: %d %v", resp.StatusCode, resp.Header)
			}
			if resp, body := httpGet(t, s.url("/static.txt")); resp.StatusCode != 200 || body != "plain file\n" {
				t.Errorf("static through the front controller: %d %q", resp.StatusCode, body)
			}
			if _, body := httpGet(t, s.url("/some/route?q=1")); body != "front:/some/route?q=1" {
				t.Errorf("front controller: %q", body)
			}
			if resp, body := httpGet(t, s.url("/stderr.php")); resp.StatusCode != 200 || body != "logged" {
				t.Errorf("stderr.php: %d %q", resp.StatusCode, body)
			}
			if !strings.Contains(logs.String(), "gale-stderr-marker") {
				t.Errorf("STDERR not in the error log:\n%s", logs)
			}
			req, _ := http.NewRequest("HEAD", s.url("/hello.php"), nil)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("HEAD: %d", resp.StatusCode)
			}
		})
	}
}

func TestPHPUploads(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{})
	s, _ := startPHP(t, fpm, nil)

	resp, err := http.Post(s.url("/form.php"), "application/x-www-form-urlencoded", strings.NewReader("name=gale&city=Oslo"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "gale|Oslo" {
		t.Fatalf("form: %q", b)
	}

	payload := bytes.Repeat([]byte("upload-0123456789"), (10<<20)/17)
	sum := sha256.Sum256(payload)
	want := fmt.Sprintf("%d %s", len(payload), hex.EncodeToString(sum[:]))
	// Known length, then chunked (a reader of unknown size).
	for _, chunked := range []bool{false, true} {
		if _, b := httpPost(t, s.url("/sum.php"), payload, chunked); b != want {
			t.Fatalf("chunked=%v: got %q, want %q", chunked, b, want)
		}
	}
}

// TestPHPLargeResponseSlowClient: 50 MiB from php to a slow client,
// intact; the php worker is freed long before the client finishes.
func TestPHPLargeResponseSlowClient(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 1})
	s, _ := startPHP(t, fpm, nil)
	resp, err := http.Get(s.url("/big.php"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 65536)
	want := sha256.New()
	for i := 0; i < 50; i++ {
		want.Write(chunk)
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var n int64
	freed := false
	for i := 0; ; i++ {
		k, err := resp.Body.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if i == 20 {
			// The only php worker must be free again while we are slow.
			_, body := httpGet(t, s.url("/hello.php"))
			freed = body == "Hello, World!"
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
		if i%32 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if n != 50<<20 || !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Fatalf("got %d bytes, checksum mismatch", n)
	}
	if !freed {
		t.Fatal("the php worker was held by the slow client")
	}
}

// load runs n GETs of path with c concurrent clients and counts failures.
func load(t *testing.T, url string, n, c int) (fails int64, statuses map[int]int) {
	t.Helper()
	return hammer(t, n, c, func(client *http.Client, _ int64) (int, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	})
}

// hammer runs requests 1..n from c concurrent clients; do makes request i
// and returns its status, or an error when it failed otherwise. A status
// other than 200 counts as a failure; the first few failures are logged.
func hammer(t *testing.T, n, c int, do func(client *http.Client, i int64) (int, error)) (fails int64, statuses map[int]int) {
	t.Helper()
	var failed atomic.Int64
	var mu sync.Mutex
	statuses = map[int]int{}
	tr := &http.Transport{MaxIdleConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				status, err := do(client, i)
				if err == nil && status != 200 {
					err = fmt.Errorf("status %d", status)
				}
				if err != nil {
					if failed.Add(1) <= 3 {
						t.Logf("request %d: %v", i, err)
					}
				}
				if status != 0 {
					mu.Lock()
					statuses[status]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return failed.Load(), statuses
}

// TestPHPWorkerRecycling: php-fpm recycles each worker after 10 requests
// (closing its connection); gale resends on a fresh connection: 0 errors.
func TestPHPWorkerRecycling(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{MaxRequests: 10})
	s, logs := startPHP(t, fpm, &upstream.Upstream{ReadTimeout: 3 * time.Second})
	fails, statuses := load(t, s.url("/hello.php"), 5000, 16)
	if fails != 0 {
		fpmLog, _ := os.ReadFile(fpm.Log)
		t.Fatalf("%d failed requests of 5000: %v\n%s\nphp-fpm:\n%s", fails, statuses, lastLines(logs.String(), 8), lastLines(string(fpmLog), 30))
	}
}

// TestPHPKilledAndRestarted: with php-fpm gone gale answers 502 at once;
// after a restart requests succeed again within a second.
func TestPHPKilledAndRestarted(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{})
	s, logs := startPHP(t, fpm, &upstream.Upstream{QueueTimeout: 2 * time.Second})
	if _, body := httpGet(t, s.url("/hello.php")); body != "Hello, World!" {
		t.Fatalf("before: %q", body)
	}
	fpm.Stop()
	began := time.Now()
	resp, _ := httpGet(t, s.url("/hello.php"))
	if resp.StatusCode != 502 {
		t.Fatalf("php-fpm down: status %d, want 502", resp.StatusCode)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("502 took %v", d)
	}
	fpm.Restart(t)
	restarted := time.Now()
	for {
		resp, body := httpGet(t, s.url("/hello.php"))
		if resp.StatusCode == 200 && body == "Hello, World!" {
			break
		}
		if time.Since(restarted) > time.Second {
			t.Fatalf("still %d a second after php-fpm restarted; log:\n%s", resp.StatusCode, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPHPTimeoutAndQueue: a script past the read timeout gets 504; with a
// budget of 2 connections, 50 concurrent slow requests queue and all
// complete; past the queue timeout they get 503 with Retry-After.
func TestPHPTimeoutAndQueue(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	s, logs := startPHP(t, fpm, &upstream.Upstream{MaxConns: 2, ReadTimeout: 300 * time.Millisecond, QueueTimeout: 5 * time.Second})
	resp, _ := httpGet(t, s.url("/sleep.php?ms=1000"))
	if resp.StatusCode != 504 {
		t.Fatalf("slow script: %d, want 504", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "upstream timeout") {
		t.Errorf("no log line for the timeout:\n%s", logs)
	}
	time.Sleep(800 * time.Millisecond) // let the stuck worker finish
	fails, statuses := load(t, s.url("/sleep.php?ms=20"), 50, 50)
	if fails != 0 {
		t.Fatalf("queued requests failed: %v", statuses)
	}

	// A second gale on its own php-fpm: a budget of one connection and a
	// queue timeout shorter than the script.
	fpm2 := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 1})
	s2, _ := startPHP(t, fpm2, &upstream.Upstream{MaxConns: 1, QueueTimeout: 100 * time.Millisecond})
	var mu sync.Mutex
	codes := map[int]int{}
	retryAfter := ""
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(s2.url("/sleep.php?ms=300"))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			if resp.StatusCode == 503 {
				retryAfter = resp.Header.Get("Retry-After")
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[503] == 0 || codes[200] == 0 || codes[200]+codes[503] != 6 {
		t.Fatalf("want some 200 and some 503, got %v", codes)
	}
	if retryAfter == "" {
		t.Errorf("503 without Retry-After")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var phpLoops = 2
