package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEnv prepares a document root and a directory for one server.
func testEnv(t *testing.T) Env {
	t.Helper()
	tmp := t.TempDir()
	// Servers drop to "nobody" unless told otherwise; keep the tree readable.
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(tmp, "root")
	if err := prepareRoot(root); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "srv")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return Env{Dir: dir, Root: root, Port: port, MaxConns: 1024}
}

// startServer starts srv (skipping if it is not installed) and stops it
// when the test ends.
func startServer(t *testing.T, srv Server, e Env) *Proc {
	t.Helper()
	if err := srv.Check(); err != nil {
		t.Skipf("%s: %v", srv.Name(), err)
	}
	p, err := srv.Start(e)
	if err != nil {
		t.Fatalf("start %s: %v\nconfig:\n%s", srv.Name(), err, srv.Config(e))
	}
	t.Cleanup(p.Stop)
	return p
}

// Every installed server, configured as the harness configures it, must
// serve every file of the document root byte for byte.
func TestServersServeStaticFiles(t *testing.T) {
	for _, srv := range []Server{&nginx{}, &lighttpd{}, &h2o{}} {
		t.Run(srv.Name(), func(t *testing.T) {
			e := testEnv(t)
			startServer(t, srv, e)
			for _, f := range docFiles {
				if err := checkResponse(e.Addr(), f.Path, docContent(f.Size)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// Every installed server must pass hello.php to a fresh php-fpm pool.
func TestServersRunPHP(t *testing.T) {
	bin, err := lookBin("php-fpm8.2")
	if err != nil {
		t.Skip(err)
	}
	for _, srv := range []Server{&nginx{}, &lighttpd{}, &h2o{}} {
		t.Run(srv.Name(), func(t *testing.T) {
			e := testEnv(t)
			fpm, err := (&phpFPM{bin: bin}).Start(e.Dir, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(fpm.Stop)
			e.FastCGI = Socket(e.Dir)
			startServer(t, srv, e)
			if err := checkResponse(e.Addr(), helloURLPath, []byte(helloBody)); err != nil {
				t.Error(err)
			}
			// Static files still come from the server, not the backend.
			if err := checkResponse(e.Addr(), "/612.bin", docContent(612)); err != nil {
				t.Error(err)
			}
		})
	}
}

// The Go FastCGI helper builds and answers through nginx.
func TestGoFCGIBackend(t *testing.T) {
	mod, err := moduleDir()
	if err != nil {
		t.Skip(err)
	}
	e := testEnv(t)
	bin := filepath.Join(e.Dir, "fcgihello")
	if err := goBuild(mod, "./bench/internal/fcgihello", bin); err != nil {
		t.Fatal(err)
	}
	be, err := (&goFCGI{bin: bin}).Start(e.Dir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Stop)
	e.FastCGI = Socket(e.Dir)
	startServer(t, &nginx{}, e)
	if err := checkResponse(e.Addr(), helloURLPath, []byte(helloBody)); err != nil {
		t.Error(err)
	}
}

// A start failure is an error carrying the server's own message, not a hang.
func TestStartFailureReportsLog(t *testing.T) {
	e := testEnv(t)
	e.Root = "/nonexistent\"; broken"
	l := &lighttpd{}
	if err := l.Check(); err != nil {
		t.Skip(err)
	}
	_, err := l.Start(e)
	if err == nil || !strings.Contains(err.Error(), "lighttpd exited") {
		t.Fatalf("err = %v, want lighttpd's exit with its log", err)
	}
}

// The idle and slow clients against real nginx: every connection answered
// and kept open; every slow download complete and byte-exact.
func TestIdleAndSlowClients(t *testing.T) {
	e := testEnv(t)
	p := startServer(t, &nginx{}, e)
	m := runIdle(p.PID(), e.Addr(), "/612.bin", 50, docContent(612))
	if m.OK != 50 || m.StillOpen != 50 || m.Errors != 0 || m.BaseRSS <= 0 {
		t.Errorf("idle: %+v", m)
	}
	s := runSlow(p.PID(), e.Addr(), "/1m.bin", 3, 64<<20, docContent(1<<20))
	if s.OK != 3 || s.Errors != 0 || s.PeakRSS <= 0 {
		t.Errorf("slow: %+v", s)
	}
	// A wrong expectation must be caught, not counted as complete.
	s = runSlow(p.PID(), e.Addr(), "/64k.bin", 1, 64<<20, docContent(1<<20))
	if s.OK != 0 || s.Errors != 1 {
		t.Errorf("slow with wrong length: %+v", s)
	}
}

// wrk, given the pipeline script, sends 16 requests in one write: a plain
// listener counts the requests in the first segment it reads.
func TestPipelineScriptRunsInWrk(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first := make(chan int, 1)
	go func() {
		// wrk first connects once without sending, to check the address.
		buf := make([]byte, 64<<10)
		for {
			c, err := l.Accept()
			if err != nil {
				first <- -1
				return
			}
			n, _ := c.Read(buf)
			c.Close()
			if n > 0 {
				first <- bytes.Count(buf[:n], []byte("GET /612.bin HTTP/1.1\r\n"))
				return
			}
		}
	}()
	script, err := writeScript(t.TempDir(), "p.lua", pipelineScript(16, "/612.bin"))
	if err != nil {
		t.Fatal(err)
	}
	_, out, _ := runWrk(context.Background(), WrkOptions{Threads: 1, Conns: 1, Duration: time.Second,
		URL: "http://" + l.Addr().String() + "/612.bin", Script: script})
	if got := <-first; got != 16 {
		t.Errorf("first segment held %d requests, want 16\nwrk: %s", got, out)
	}
}

// nginx runs with Debian's tcp_nopush on; its tcp_nopush-off variant runs
// only pipelined scenarios, and selecting nginx brings it along.
func TestNginxNoPushVariant(t *testing.T) {
	e := Env{Dir: "/d", Root: "/r", Port: 8080, MaxConns: 100}
	on, off := (&nginx{}).Config(e), (&nginx{noPush: true}).Config(e)
	if !strings.Contains(on, "tcp_nopush on;") || !strings.Contains(on, "listen 127.0.0.1:8080 reuseport;") {
		t.Errorf("nginx config lacks Debian's tcp_nopush on or reuseport:\n%s", on)
	}
	if !strings.Contains(off, "tcp_nopush off;") {
		t.Errorf("variant config lacks tcp_nopush off:\n%s", off)
	}
	v := &nginx{noPush: true}
	if v.Runs(Scenario{Name: "static-4k"}) || !v.Runs(Scenario{Name: "pipeline-4k", Pipeline: 16}) {
		t.Error("the tcp_nopush-off variant must run pipelined scenarios only")
	}
	stacks := ",nginx+gunicorn,nginx+uwsgi,nginx+fcgiwrap"
	for list, want := range map[string]string{
		"nginx,lighttpd":       "nginx," + nginxNoPush + stacks + ",lighttpd",
		nginxNoPush:            nginxNoPush,
		"nginx," + nginxNoPush: "nginx" + stacks + "," + nginxNoPush,
		"nginx+uwsgi":          "nginx+uwsgi",
	} {
		srvs, err := selectServers(Options{Servers: list}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range srvs {
			names = append(names, s.Name())
		}
		if got := strings.Join(names, ","); got != want {
			t.Errorf("-servers %s selected %s, want %s", list, got, want)
		}
	}
}

// -gale-flags reach every gale command line, `gale wsgi`'s too, before
// its application (the flag package stops at the first argument).
func TestGaleFlagsReachWSGI(t *testing.T) {
	g := &gale{bin: "gale", extra: []string{"-pipeline", "8"}}
	args := g.args(Env{WSGIDir: "/srv/app", Port: 8080})
	if n := len(args); n < 3 || args[n-3] != "-pipeline" || args[n-2] != "8" || args[n-1] != wsgiAppName {
		t.Errorf("gale wsgi arguments %q: want -gale-flags, then the application", args)
	}
}
