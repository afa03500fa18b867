package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// PHPFPM is a php-fpm master started for one test, with its own pool.
type PHPFPM struct {
	Socket string // unix socket path
	Cmd    *exec.Cmd
	Log    string // php-fpm's error log
	conf   string
}

// PHPFPMOptions tune the pool.
type PHPFPMOptions struct {
	Children    int // pm.max_children (pm = static); default 4
	MaxRequests int // pm.max_requests; 0 = never recycle
	TCP         bool
}

// StartPHPFPM runs Debian's php-fpm8.2 on a unix socket in a temp dir
// (make test-deps installs it). The test fails when it is missing: these
// tests exist to talk to the real thing.
func StartPHPFPM(t testing.TB, opt PHPFPMOptions) *PHPFPM {
	t.Helper()
	bin := "/usr/sbin/php-fpm8.2"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("php-fpm8.2 is required (make test-deps): %v", err)
	}
	if opt.Children == 0 {
		opt.Children = 4
	}
	dir, err := os.MkdirTemp("", "gale-fpm-")
	if err != nil {
		t.Fatal(err)
	}
	p := &PHPFPM{Log: filepath.Join(dir, "fpm.log"), conf: filepath.Join(dir, "fpm.conf")}
	listen := filepath.Join(dir, "fpm.sock")
	p.Socket = listen
	if opt.TCP {
		listen = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		p.Socket = listen
	}
	conf := fmt.Sprintf(`[global]
error_log = %s
daemonize = no
[www]
listen = %s
pm = static
pm.max_children = %d
pm.max_requests = %d
catch_workers_output = yes
decorate_workers_output = no
clear_env = no
`, p.Log, listen, opt.Children, opt.MaxRequests)
	if err := os.WriteFile(p.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Cmd = exec.Command(bin, "-R", "-F", "-y", p.conf, "-p", dir)
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		os.RemoveAll(dir)
	})
	p.wait(t)
	return p
}

// Addr is the backend address in gale's syntax.
func (p *PHPFPM) Addr() string {
	if filepath.IsAbs(p.Socket) {
		return "unix:" + p.Socket
	}
	return p.Socket
}

func (p *PHPFPM) wait(t testing.TB) {
	network := "unix"
	if !filepath.IsAbs(p.Socket) {
		network = "tcp"
	}
	if err := dialWait(network, p.Socket, 10*time.Second); err != nil {
		log, _ := os.ReadFile(p.Log)
		t.Fatalf("php-fpm did not start: %v\n%s", err, log)
	}
}

// Stop kills the php-fpm master and its workers.
func (p *PHPFPM) Stop() {
	if p.Cmd.Process != nil && p.Cmd.ProcessState == nil {
		syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		p.Cmd.Wait()
	}
}

// Restart starts php-fpm again with the same configuration.
func (p *PHPFPM) Restart(t testing.TB) {
	t.Helper()
	p.Stop()
	os.Remove(p.Socket)
	p.Cmd = exec.Command(p.Cmd.Path, p.Cmd.Args[1:]...)
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
}
