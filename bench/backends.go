package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// phpChildren is the php-fpm pool size; servers with FastCGI keep-alive keep
// at most this many backend connections.
const phpChildren = 4

// Backend is a FastCGI application a scenario puts behind the server.
type Backend interface {
	// Name is the backend's label in the report.
	Name() string
	// Config renders its configuration for a socket in dir.
	Config(dir string) string
	// Start starts a fresh instance listening on Socket(dir).
	Start(dir, cpus string) (*Proc, error)
	// Proto is what it speaks on Socket(dir): protoFastCGI, protoHTTP or
	// protoUWSGI; it decides which Env field the servers get it in.
	Proto() string
}

// The protocols of backends.
const (
	protoFastCGI = "fastcgi"
	protoHTTP    = "http"
	protoUWSGI   = "uwsgi"
)

// Socket is where every backend listens inside its private dir.
func Socket(dir string) string { return filepath.Join(dir, "backend.sock") }

// phpFPM is a php-fpm pool of its own: a fresh master per server under test,
// so no server inherits another's warm workers.
type phpFPM struct{ bin string }

func (*phpFPM) Name() string { return "php-fpm" }

func (*phpFPM) Proto() string { return protoFastCGI }

func (p *phpFPM) Config(dir string) string {
	user := ""
	if runAsRoot() {
		user = "user = root\ngroup = root\n"
	}
	return fmt.Sprintf(`; php-fpm pool for one benchmark server.
[global]
pid = %[1]s/php-fpm.pid
error_log = %[1]s/php-fpm.log
daemonize = no

[bench]
listen = %[2]s
listen.mode = 0666
listen.backlog = 511
%[3]spm = static
pm.max_children = %[4]d
catch_workers_output = no
`, dir, Socket(dir), user, phpChildren)
}

func (p *phpFPM) Start(dir, cpus string) (*Proc, error) {
	conf := filepath.Join(dir, "php-fpm.conf")
	if err := os.WriteFile(conf, []byte(p.Config(dir)), 0o644); err != nil {
		return nil, err
	}
	// -R lets the pool run as root when the harness does (containers).
	return startListening("php-fpm", cpus, dir, "unix", Socket(dir), nil, p.bin, "-F", "-R", "-y", conf)
}

// goFCGI is bench/internal/fcgihello, a net/http/fcgi "Hello, World!"
// backend, built once by the harness.
type goFCGI struct{ bin string }

func (*goFCGI) Name() string { return "go-fcgi" }

func (*goFCGI) Proto() string { return protoFastCGI }

func (g *goFCGI) Config(dir string) string {
	return "# command line\n" + g.bin + " -listen " + Socket(dir) + "\n"
}

func (g *goFCGI) Start(dir, cpus string) (*Proc, error) {
	return startListening("go-fcgi", cpus, dir, "unix", Socket(dir), nil, g.bin, "-listen", Socket(dir))
}

// goBuild builds a package of this module into out.
func goBuild(moduleDir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v: %s", pkg, err, firstLines(string(b), 3))
	}
	return nil
}
