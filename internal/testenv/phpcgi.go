package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// PHPCGI is a php-cgi FastCGI server (`php-cgi -b`) started for one test:
// the README's spawn example, with PHP's default cgi.fix_pathinfo=1 and
// none of php-fpm's security.limit_extensions.
type PHPCGI struct {
	Socket string // unix socket path
	Cmd    *exec.Cmd
}

// StartPHPCGI runs one php-cgi process (PHP_FCGI_CHILDREN=0: it serves one
// connection at a time itself, so give its upstream MaxConns 1) on a unix
// socket in a temp dir. The test fails when php-cgi is missing.
func StartPHPCGI(t testing.TB) *PHPCGI {
	t.Helper()
	bin, err := exec.LookPath("php-cgi")
	if err != nil {
		t.Fatalf("php-cgi is required (make test-deps): %v", err)
	}
	dir, err := os.MkdirTemp("", "gale-php-cgi-")
	if err != nil {
		t.Fatal(err)
	}
	p := &PHPCGI{Socket: filepath.Join(dir, "php.sock")}
	p.Cmd = exec.Command(bin, "-b", p.Socket)
	p.Cmd.Env = append(os.Environ(), "PHP_FCGI_CHILDREN=0", "PHP_FCGI_MAX_REQUESTS=0")
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		p.Cmd.Wait()
		os.RemoveAll(dir)
	})
	if err := dialWait("unix", p.Socket, 10*time.Second); err != nil {
		t.Fatalf("php-cgi did not start: %v", err)
	}
	return p
}

// Addr is the backend address in gale's syntax.
func (p *PHPCGI) Addr() string { return "unix:" + p.Socket }
