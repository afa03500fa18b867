package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startBackend starts the backend key in e.Dir (skipping when it is not
// installed) and points e at it, as the harness does.
func startBackend(t *testing.T, key string, e *Env) {
	t.Helper()
	b, err := newBackend(key, e.Dir)
	if err != nil {
		t.Skip(err)
	}
	p, err := b.Start(e.Dir, "")
	if err != nil {
		t.Fatalf("%s: %v", b.Name(), err)
	}
	t.Cleanup(p.Stop)
	setBackendEnv(e, key, b)
}

// Every installed HTTP proxy, configured as in proxy-go, passes the Go
// backend's answer through.
func TestServersProxyGo(t *testing.T) {
	for _, srv := range []Server{&nginx{}, &lighttpd{}, &h2o{}, &caddy{}} {
		t.Run(srv.Name(), func(t *testing.T) {
			if err := srv.Check(); err != nil {
				t.Skip(err)
			}
			e := testEnv(t)
			startBackend(t, backendGoHTTP, &e)
			if e.Proxy == "" || e.ProxyKeepAlive != proxyKeepAlive {
				t.Fatalf("env %+v: want the HTTP socket and keep-alive", e)
			}
			startServer(t, srv, e)
			if err := checkResponse(e.Addr(), proxyURLPath, []byte(helloBody)); err != nil {
				t.Error(err)
			}
		})
	}
}

// nginx in front of gunicorn and of uWSGI answers with the Flask app.
func TestNginxPythonBackends(t *testing.T) {
	for _, key := range []string{backendGunicorn, backendUWSGI} {
		t.Run(key, func(t *testing.T) {
			e := testEnv(t)
			startBackend(t, key, &e)
			startServer(t, &nginx{}, e)
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := checkResponse(e.Addr(), wsgiURLPath, []byte(helloBody))
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond) // workers still importing
			}
		})
	}
}

// lighttpd's mod_cgi and nginx+fcgiwrap run the script, not serve it.
func TestServersRunCGI(t *testing.T) {
	for _, srv := range []Server{&lighttpd{}, &stack{nginx: &nginx{}, backend: backendFcgiwrap, scenario: "cgi-hello"}} {
		t.Run(srv.Name(), func(t *testing.T) {
			if err := srv.Check(); err != nil {
				t.Skip(err)
			}
			e := testEnv(t)
			root, err := writeCGIRoot(e.Dir)
			if err != nil {
				t.Fatal(err)
			}
			e.Root, e.CGI = root, true
			if st, ok := srv.(*stack); ok {
				startBackend(t, st.backend, &e)
			}
			startServer(t, srv, e)
			if err := checkResponse(e.Addr(), cgiURLPath, []byte(helloBody)); err != nil {
				t.Error(err)
			}
		})
	}
}

// nginx keeps connections to the Go backend alive the way its docs say,
// and to gunicorn's sync workers not at all (gunicorn's deploy docs).
func TestNginxProxyKeepAlive(t *testing.T) {
	e := Env{Dir: "/d", Root: "/r", Port: 8080, MaxConns: 100, Proxy: "/d/backend.sock"}
	plain := (&nginx{}).Config(e)
	e.ProxyKeepAlive = proxyKeepAlive
	ka := (&nginx{}).Config(e)
	for _, want := range []string{"proxy_http_version 1.1;", `proxy_set_header Connection "";`, "keepalive 64;"} {
		if !strings.Contains(ka, want) {
			t.Errorf("keep-alive config lacks %q:\n%s", want, ka)
		}
		if strings.Contains(plain, want) {
			t.Errorf("gunicorn config has %q:\n%s", want, plain)
		}
	}
	for _, want := range []string{"fail_timeout=0", "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_redirect off;"} {
		if !strings.Contains(plain, want) {
			t.Errorf("gunicorn config lacks %q:\n%s", want, plain)
		}
	}
}

// Only gale, the listed peers and the scenario's stack rows run it.
func TestRunsHere(t *testing.T) {
	cgi, wsgi, proxy := mustScenario("cgi-hello"), mustScenario("wsgi-flask"), mustScenario("proxy-go")
	fw := &stack{nginx: &nginx{}, backend: backendFcgiwrap, scenario: "cgi-hello"}
	for _, c := range []struct {
		sc   Scenario
		srv  Server
		runs bool
	}{
		{cgi, &gale{}, true}, {cgi, &lighttpd{}, true}, {cgi, fw, true}, {cgi, &nginx{}, false}, {cgi, &h2o{}, false},
		{wsgi, &gale{}, true}, {wsgi, &nginx{}, false}, {proxy, &caddy{}, true}, {mustScenario("gunicorn-flask"), &h2o{}, false},
	} {
		if got := runsHere(c.sc, c.srv) == ""; got != c.runs {
			t.Errorf("%s on %s: runs = %v, want %v", c.sc.Name, c.srv.Name(), got, c.runs)
		}
	}
	if fw.Runs(wsgi) || !fw.Runs(cgi) {
		t.Error("nginx+fcgiwrap must run cgi-hello only")
	}
}

// A child that exited and was waited for counts in its parent's tree.
func TestTreeCPUCountsReapedChildren(t *testing.T) {
	before, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	after, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	got := after.ChildCPU() - before.ChildCPU()
	if got < child-2*clockTick || got == 0 {
		t.Errorf("cutime+cstime grew by %v, the child used %v", got, child)
	}
}

func TestParsePss(t *testing.T) {
	p, err := parsePss([]byte("00400000-7fff [rollup]\nRss:  2048 kB\nPss:  1024 kB\nPss_Anon: 10 kB\n"))
	if err != nil || p != 1024<<10 {
		t.Errorf("parsePss = %d, %v", p, err)
	}
	if _, err := parsePss([]byte("Rss: 1 kB\n")); err == nil {
		t.Error("no Pss: no error")
	}
}

// The CGI script is executable and prints a CGI head and the body.
func TestCGIScript(t *testing.T) {
	root, err := writeCGIRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "cgi-bin", "hello.sh")).Output()
	if err != nil || string(out) != "Content-Type: text/html\r\n\r\n"+helloBody {
		t.Errorf("script: %q, %v", out, err)
	}
}
