package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Backends of the proxy-go, gunicorn-flask, uwsgi-flask and cgi-hello
// scenarios and of the stack rows (nginx+gunicorn, nginx+uwsgi,
// nginx+fcgiwrap). Like php-fpm, each is started fresh per server under
// test, on a unix socket in the server's private dir, pinned to the server's
// CPUs.

// Backend keys (Scenario.Backend, stack.backend).
const (
	backendPHP      = "php"
	backendGoFCGI   = "go"
	backendGoHTTP   = "http-go"
	backendGunicorn = "gunicorn"
	backendUWSGI    = "uwsgi"
	backendFcgiwrap = "fcgiwrap"
)

// Python application servers of the Flask scenarios: Debian's packages,
// whose interpreter is /usr/bin/python3 (not a pyenv python3 on PATH).
const (
	gunicornBin = "/usr/bin/gunicorn"
	uwsgiBin    = "/usr/bin/uwsgi"
	fcgiwrapBin = "/usr/sbin/fcgiwrap"
	// proxyKeepAlive is nginx's upstream keepalive for the Go HTTP
	// backend: wrk's -c64, so that under a steady load nginx never closes
	// a backend connection for lack of cache room (its best setting).
	proxyKeepAlive = 64
)

// cgi-hello's script: a shell script run by its #! line, a process per request.
const (
	cgiURLPath = "/cgi-bin/hello.sh"
	cgiScript  = "#!/bin/sh\nprintf 'Content-Type: text/html\\r\\n\\r\\n" + helloBody + "'\n"
)

// newBackend makes the backend named key; tmp holds what it builds.
func newBackend(key, tmp string) (Backend, error) {
	switch key {
	case backendPHP:
		bin, err := lookBin("php-fpm8.2")
		if err != nil {
			bin, err = lookBin("php-fpm")
		}
		if err != nil {
			return nil, err
		}
		return &phpFPM{bin: bin}, nil
	case backendGoFCGI, backendGoHTTP:
		pkg, name := "fcgihello", "go-fcgi"
		if key == backendGoHTTP {
			pkg, name = "httphello", "go-http"
		}
		mod, err := moduleDir()
		bin := filepath.Join(tmp, pkg)
		if err == nil {
			err = goBuild(mod, "./bench/internal/"+pkg, bin)
		}
		if err != nil {
			return nil, err
		}
		if key == backendGoFCGI {
			return &goFCGI{bin: bin}, nil
		}
		return &goHTTP{bin: bin, name: name}, nil
	case backendGunicorn, backendUWSGI:
		bin := gunicornBin
		if key == backendUWSGI {
			bin = uwsgiBin
			if _, err := os.Stat("/usr/lib/uwsgi/plugins/python3_plugin.so"); err != nil {
				return nil, fmt.Errorf("uwsgi-plugin-python3 not installed")
			}
		}
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s not installed (make bench-deps)", bin)
		}
		if err := checkFlask(); err != nil {
			return nil, err
		}
		if key == backendUWSGI {
			return &uwsgiApp{bin: bin}, nil
		}
		return &gunicornApp{bin: bin}, nil
	case backendFcgiwrap:
		if _, err := os.Stat(fcgiwrapBin); err != nil {
			return nil, fmt.Errorf("fcgiwrap not installed (make bench-deps)")
		}
		return &fcgiwrap{bin: fcgiwrapBin}, nil
	}
	return nil, fmt.Errorf("unknown backend %q", key)
}

// goHTTP is bench/internal/httphello, a net/http "Hello, World!" backend
// speaking HTTP/1.1 with keep-alive.
type goHTTP struct{ bin, name string }

func (g *goHTTP) Name() string { return g.name }

func (*goHTTP) Proto() string { return protoHTTP }

func (g *goHTTP) Config(dir string) string {
	return "# command line\n" + g.bin + " -listen " + Socket(dir) + "\n"
}

func (g *goHTTP) Start(dir, cpus string) (*Proc, error) {
	return startListening(g.name, cpus, dir, "unix", Socket(dir), nil, g.bin, "-listen", Socket(dir))
}

// gunicornApp is the Flask application on gunicorn 20.1 (Debian), as its
// deploy docs run it behind a proxy: sync workers (the default class) on a
// unix socket, no access log (gunicorn's default).
type gunicornApp struct{ bin string }

func (*gunicornApp) Name() string { return "gunicorn" }

func (*gunicornApp) Proto() string { return protoHTTP }

func (g *gunicornApp) args(dir string) []string {
	return []string{"--workers", strconv.Itoa(wsgiWorkers), "--worker-class", "sync",
		"--bind", "unix:" + Socket(dir), "--chdir", dir, wsgiAppName}
}

func (g *gunicornApp) Config(dir string) string {
	return "# command line\n" + shellJoin(append([]string{g.bin}, g.args(dir)...)) + "\n"
}

func (g *gunicornApp) Start(dir, cpus string) (*Proc, error) {
	if err := writeWSGIApp(dir); err != nil {
		return nil, err
	}
	return startListening("gunicorn", cpus, dir, "unix", Socket(dir), nil, g.bin, g.args(dir)...)
}

// uwsgiApp is the Flask application on uWSGI 2.0 (Debian's uwsgi-core and
// python3 plugin) as nginx's and uWSGI's guides run it: --socket (the uwsgi
// protocol) on a unix socket, --master, 4 processes, request logging off.
type uwsgiApp struct{ bin string }

func (*uwsgiApp) Name() string { return "uwsgi" }

func (*uwsgiApp) Proto() string { return protoUWSGI }

func (u *uwsgiApp) args(dir string) []string {
	return []string{"--plugin", "python3", "--socket", Socket(dir), "--chmod-socket=666",
		"--chdir", dir, "--module", wsgiAppName, "--master", "--processes", strconv.Itoa(wsgiWorkers),
		"--disable-logging", "--need-app", "--die-on-term"}
}

func (u *uwsgiApp) Config(dir string) string {
	return "# command line (--die-on-term: uWSGI 2.0 reloads on SIGTERM otherwise)\n" +
		shellJoin(append([]string{u.bin}, u.args(dir)...)) + "\n"
}

func (u *uwsgiApp) Start(dir, cpus string) (*Proc, error) {
	if err := writeWSGIApp(dir); err != nil {
		return nil, err
	}
	return startListening("uwsgi", cpus, dir, "unix", Socket(dir), nil, u.bin, u.args(dir)...)
}

// fcgiwrap runs CGI scripts for nginx (Debian's fcgiwrap 1.1.0): a FastCGI
// server that forks the script SCRIPT_FILENAME names, per request.
type fcgiwrap struct{ bin string }

func (*fcgiwrap) Name() string { return "fcgiwrap" }

func (*fcgiwrap) Proto() string { return protoFastCGI }

func (f *fcgiwrap) args(dir string) []string {
	// -c 4: four preforked wrappers (Debian's README: FCGI_CHILDREN), as
	// many as the other backends' processes.
	return []string{"-c", strconv.Itoa(wsgiWorkers), "-s", "unix:" + Socket(dir)}
}

func (f *fcgiwrap) Config(dir string) string {
	return "# command line\n" + shellJoin(append([]string{f.bin}, f.args(dir)...)) + "\n"
}

func (f *fcgiwrap) Start(dir, cpus string) (*Proc, error) {
	return startListening("fcgiwrap", cpus, dir, "unix", Socket(dir), nil, f.bin, f.args(dir)...)
}

// writeCGIRoot writes cgi-hello's document root into dir/www (the script
// under cgi-bin/, executable) and returns it.
func writeCGIRoot(dir string) (string, error) {
	root := filepath.Join(dir, "www")
	if err := os.MkdirAll(filepath.Join(root, "cgi-bin"), 0o755); err != nil {
		return "", err
	}
	return root, os.WriteFile(filepath.Join(root, filepath.FromSlash(cgiURLPath)), []byte(cgiScript), 0o755)
}

// shellJoin renders a command line for -show-config.
func shellJoin(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

// stack is nginx in front of an application server it does not run itself
// (gunicorn, uWSGI, fcgiwrap): a row of the one scenario that compares whole
// stacks with gale, which runs the application (wsgi-flask: gale wsgi's
// workers; cgi-hello: the scripts) as its own children. The harness starts
// the backend, and counts its CPU and memory as the row's server's.
type stack struct {
	*nginx
	backend  string // backend key
	scenario string // the only scenario it runs
}

func (s *stack) Name() string { return "nginx+" + s.backend }

// Runs keeps the stack to its scenario.
func (s *stack) Runs(sc Scenario) bool { return sc.Name == s.scenario }

// stackBackend is implemented by the stack rows.
func (s *stack) stackBackend() string { return s.backend }

// stackServer is a server row that includes its backend.
type stackServer interface {
	stackBackend() string
}
