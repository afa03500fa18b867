package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenAddr(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ addr, err string }{
		{"unix:", "empty socket path"},
		{"unix:" + file, "not a socket"},
		{"no-port", "missing port"},
	} {
		if l, err := listenAddr(tc.addr); err == nil || !strings.Contains(err.Error(), tc.err) {
			if l != nil {
				l.Close()
			}
			t.Errorf("listenAddr(%q): %v, want an error with %q", tc.addr, err, tc.err)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("a regular file in the way was touched: %q", b)
	}
	l, err := listenAddr("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Addr().(*net.TCPAddr); !ok {
		t.Errorf("host:port listens on %T", l.Addr())
	}
	l.Close()
}

func TestFCGIDemoArgs(t *testing.T) {
	for _, args := range [][]string{{}, {"-listen", "unix:"}, {"-listen", "127.0.0.1:0", "extra"}} {
		if err := runFCGIDemo(args); err == nil {
			t.Errorf("fcgi-demo %q: no error", args)
		}
	}
}
