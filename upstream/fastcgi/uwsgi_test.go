package fastcgi

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

const wsgiApp = `def application(env, start_response):
    body = env['wsgi.input'].read()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')])
    return [("script=%s info=%s q=%s len=%d foo=%s\n" % (env.get('SCRIPT_NAME'), env.get('PATH_INFO'),
        env.get('QUERY_STRING'), len(body), env.get('HTTP_X_FOO'))).encode()]
`

// startUWSGI runs uWSGI's python3 plugin with its FastCGI socket.
func startUWSGI(t *testing.T) string {
	bin, err := exec.LookPath("uwsgi")
	if err != nil {
		t.Skip("uwsgi not installed")
	}
	testenv.CheckLeaks(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "uwsgi.sock")
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(wsgiApp), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--plugin", "python3", "--fastcgi-socket", sock, "--wsgi-file", app,
		"--processes", "1", "--disable-logging")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		if i == 500 {
			t.Fatal("uwsgi did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// uWSGI's FastCGI socket ignores FCGI_GET_VALUES (no answer at all) and
// FCGI_KEEP_CONN (it closes after each request); the reactor's pool has to
// live with both, which is why Conn allows one request before Values are
// known.
func TestUWSGI(t *testing.T) {
	sock := startUWSGI(t)
	p := dialPeer(t, "unix", sock, 8)
	p.write(p.c.AppendGetValues(nil))
	body := []byte("0123456789")
	ri := getInfo("POST", "/app/x", "k=v", "X-Foo", "bar", "X_Foo", "spoof")
	ri.ScriptName, ri.PathInfo = []byte(""), []byte("/app/x")
	ri.ContentLength = int64(len(body))
	r := p.do(ri, body)
	if got := r.body.String(); got != "script= info=/app/x q=k=v len=10 foo=bar\n" {
		t.Errorf("body %q", got)
	}
	if head := string(r.head.AppendHead(nil)); head !=
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n" {
		t.Errorf("head %q", head)
	}
	if p.c.Values().Known || p.c.Limit() != 1 || !p.c.Idle() {
		t.Errorf("values %+v limit %d", p.c.Values(), p.c.Limit())
	}
	// The connection is closed after the request despite FCGI_KEEP_CONN.
	var b [64]byte
	p.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := p.nc.Read(b[:])
	if ne, ok := err.(net.Error); err == nil || (ok && ne.Timeout()) {
		t.Fatalf("uwsgi kept the connection: %d %v", n, err)
	}
}
