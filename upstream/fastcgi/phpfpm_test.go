package fastcgi

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/gale-http/gale/upstream/cgi"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

const phpFPM = "/usr/sbin/php-fpm8.2"

// serverVars echoes the variables the tests check, one per line.
const serverVarsPHP = `<?php
error_log("gale-stderr-marker");
http_response_code(201);
setcookie("a", "1");
setcookie("b", "2");
header("Set-Cookie: c=3", false);
header("X-Custom: yes");
foreach (["SCRIPT_NAME", "SCRIPT_FILENAME", "PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING",
	"REQUEST_METHOD", "REQUEST_URI", "DOCUMENT_URI", "HTTP_X_FOO", "HTTP_HOST", "HTTP_COOKIE",
	"HTTP_PROXY", "HTTP_X_SPOOF", "SERVER_SOFTWARE", "GATEWAY_INTERFACE", "REQUEST_SCHEME", "CONTENT_LENGTH"] as $k) {
	echo $k, "=", $_SERVER[$k] ?? "(unset)", "\n";
}
echo "getenv_proxy=", getenv("HTTP_PROXY") === false ? "(unset)" : "set", "\n";
$body = file_get_contents("php://input");
echo "body_len=", strlen($body), "\n", "body_sha256=", hash("sha256", $body), "\n";
`

// startFPM runs php-fpm with its own configuration in a temp dir and
// returns the unix socket and the document root.
func startFPM(t *testing.T) (sock, root string) {
	if _, err := os.Stat(phpFPM); err != nil {
		t.Skip("php-fpm8.2 not installed")
	}
	testenv.CheckLeaks(t)
	dir := t.TempDir()
	root = filepath.Join(dir, "www")
	sock = filepath.Join(dir, "fpm.sock")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "vars.php"), []byte(serverVarsPHP), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := "[global]\nerror_log = " + filepath.Join(dir, "fpm.log") + "\npid = " + filepath.Join(dir, "fpm.pid") +
		"\ndaemonize = no\n[www]\nlisten = " + sock + "\npm = static\npm.max_children = 2\nclear_env = yes\n"
	confPath := filepath.Join(dir, "fpm.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// -n: no system php.ini, so error_log() goes to the SAPI, i.e. FCGI_STDERR.
	// -R: the test machine may run as root.
	cmd := exec.Command(phpFPM, "-n", "-R", "-F", "-y", confPath, "-p", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	for i := 0; ; i++ {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return sock, root
		}
		if i == 500 {
			log, _ := os.ReadFile(filepath.Join(dir, "fpm.log"))
			t.Fatalf("php-fpm did not listen: %v\n%s", err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// phpInfo is a request for the front-controller style path under root.
func phpInfo(root, method, path, query string, hs ...string) *cgi.RequestInfo {
	ri := getInfo(method, path, query, hs...)
	ri.ScriptName, ri.PathInfo = cgi.SplitScript(ri.Path, ".php")
	ri.DocumentRoot = root
	return ri
}

// vars parses "K=V" lines.
func vars(body string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestPHPFPM(t *testing.T) {
	sock, root := startFPM(t)

	t.Run("GET_VALUES", func(t *testing.T) {
		p := dialPeer(t, "unix", sock, 8)
		v := p.getValues()
		// php-fpm 8.2 answers only FCGI_MPXS_CONNS=0.
		if v != (Values{Known: true}) || p.c.Limit() != 1 {
			t.Fatalf("values %+v limit %d", v, p.c.Limit())
		}
		// The connection stays usable after the query.
		if r := p.do(phpInfo(root, "GET", "/vars.php", ""), nil); r.head.Status != 201 {
			t.Fatalf("request after GET_VALUES: %d", r.head.Status)
		}
	})

	t.Run("GET vars, status, cookies, stderr", func(t *testing.T) {
		p := dialPeer(t, "unix", sock, 8)
		r := p.do(phpInfo(root, "GET", "/vars.php/extra/path", "a=1&b=%20",
			"X-Foo", "bar", "X_Spoof", "no", "Proxy", "http://evil.test/", "Cookie", "k=v", "cookie", "k2=v2"), nil)
		got := vars(r.body.String())
		want := map[string]string{
			"SCRIPT_NAME": "/vars.php", "SCRIPT_FILENAME": root + "/vars.php", "PATH_INFO": "/extra/path",
			"PATH_TRANSLATED": root + "/extra/path", "QUERY_STRING": "a=1&b=%20", "REQUEST_METHOD": "GET",
			"REQUEST_URI": "/vars.php/extra/path?a=1&b=%20", "DOCUMENT_URI": "/vars.php/extra/path",
			"HTTP_X_FOO": "bar", "HTTP_HOST": "gale.test", "HTTP_COOKIE": "k=v; k2=v2",
			"HTTP_PROXY": "(unset)", "HTTP_X_SPOOF": "(unset)", "getenv_proxy": "(unset)",
			"SERVER_SOFTWARE": "gale (nginx-compatible)", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_SCHEME": "http",
			"CONTENT_LENGTH": "", "body_len": "0",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		if r.head.Status != 201 {
			t.Errorf("status %d", r.head.Status)
		}
		head := string(r.head.AppendHead(nil))
		if !strings.HasPrefix(head, "HTTP/1.1 201 Created\r\n") || strings.Contains(head, "Status:") {
			t.Errorf("head %q", head)
		}
		for _, c := range []string{"Set-Cookie: a=1\r\n", "Set-Cookie: b=2\r\n", "Set-Cookie: c=3\r\n", "X-Custom: yes\r\n"} {
			if !strings.Contains(head, c) {
				t.Errorf("head lacks %q: %q", c, head)
			}
		}
		if !strings.Contains(r.stderr.String(), "gale-stderr-marker") {
			t.Errorf("stderr %q", r.stderr.String())
		}
		if r.proto != StatusRequestComplete {
			t.Errorf("proto status %d", r.proto)
		}
	})

	t.Run("POST body on a kept connection", func(t *testing.T) {
		p := dialPeer(t, "unix", sock, 8)
		for i, size := range []int{1, 70000, 300000} {
			body := []byte(strings.Repeat("gale-", size/5+1)[:size])
			ri := phpInfo(root, "POST", "/vars.php", "")
			ri.ContentLength = int64(size)
			ri.ContentType = []byte("application/octet-stream")
			r := p.do(ri, body)
			sum := sha256.Sum256(body)
			got := vars(r.body.String())
			if got["body_sha256"] != hex.EncodeToString(sum[:]) || got["CONTENT_LENGTH"] != strconv.FormatInt(ri.ContentLength, 10) {
				t.Fatalf("request %d (%d bytes): %q", i, size, r.body.String())
			}
			if r.id != 1 || !p.c.Idle() || len(p.in) != 0 {
				t.Fatalf("request %d: id %d, not at a clean boundary", i, r.id)
			}
		}
	})

	t.Run("missing script", func(t *testing.T) {
		p := dialPeer(t, "unix", sock, 8)
		r := p.do(phpInfo(root, "GET", "/nope.php", ""), nil)
		if r.head.Status != 404 || !strings.Contains(r.stderr.String(), "Primary script unknown") {
			t.Fatalf("status %d stderr %q", r.head.Status, r.stderr.String())
		}
	})
}
