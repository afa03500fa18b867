package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestUploadedImageIsNotRunAsPHP: with real php-cgi behind the front
// controller (PHP's default cgi.fix_pathinfo=1), /uploads/avatar.png/x.php
// must not run the PHP hidden in the uploaded image: php-cgi, handed
// SCRIPT_FILENAME=.../avatar.png/x.php, walks back to avatar.png and runs
// it. gale answers 404 for a script that is not a file, and still runs
// scripts that are, with their PATH_INFO.
func TestUploadedImageIsNotRunAsPHP(t *testing.T) {
	php := testenv.StartPHPCGI(t)
	root := t.TempDir()
	files := map[string]string{
		"index.php": `<?php echo "SCRIPT_NAME=", $_SERVER["SCRIPT_NAME"], " PATH_INFO=", $_SERVER["PATH_INFO"] ?? "-";`,
		// A GIF header, then PHP: what an upload filter that checks magic
		// bytes lets through. Run, it prints RAN-UPLOAD; its source does not.
		"uploads/avatar.png": "GIF89a\x01\x00\x01\x00<?php echo 'RAN-' . 'UPLOAD'; ?>",
	}
	for name, body := range files {
		check(t, os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755))
		check(t, os.WriteFile(filepath.Join(root, name), []byte(body), 0o644))
	}
	addr := startFront(t, root, php.Addr())
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		target string
		status int
		body   string // expected body (200) or "" (any error page)
	}{
		{"/uploads/avatar.png/x.php", 404, ""},
		{"/uploads/avatar.png/x.php/more", 404, ""},
		{"/uploads/nothing.php", 404, ""},
		{"/index.php/users/7", 200, "SCRIPT_NAME=/index.php PATH_INFO=/users/7"},
		{"/index.php", 200, "SCRIPT_NAME=/index.php PATH_INFO="},
		{"/uploads/avatar.png", 200, files["uploads/avatar.png"]},
	} {
		resp, err := client.Get("http://" + addr + tc.target)
		check(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		check(t, err)
		if strings.Contains(string(b), "RAN-UPLOAD") {
			t.Errorf("GET %s ran the PHP hidden in avatar.png: %d %q", tc.target, resp.StatusCode, b)
			continue
		}
		if resp.StatusCode != tc.status || (tc.body != "" && string(b) != tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.target, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}

// startFront runs an in-process gale whose only handler is the front
// controller for root with one FastCGI backend, and stops it at cleanup.
func startFront(t *testing.T, root, backend string) string {
	t.Helper()
	static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
	check(t, err)
	backends, err := upstream.ParseAddrs(backend)
	check(t, err)
	// One connection: php-cgi without PHP_FCGI_CHILDREN serves one at a time.
	u := &upstream.Upstream{Name: "php", Backends: backends, MaxConns: 1, Pipeline: 1}
	u.Init(2)
	rt := &handlers.Router{}
	rt.Handle("/", handlers.NewFrontController(static, u, root))
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	srv, err := reactor.New(reactor.Config{Addr: addr, Loops: 2, Handler: rt})
	check(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		defer static.Close()
		http.DefaultClient.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return addr
}

// TestXAccelRedirectNeverServesScriptSource: an application's
// X-Accel-Redirect to a file is served by gale; to a script it is 404, not
// the script's source (the database password in config.php), whether the
// target names the script or a PATH_INFO below it.
func TestXAccelRedirectNeverServesScriptSource(t *testing.T) {
	php := testenv.StartPHPCGI(t)
	root := t.TempDir()
	files := map[string]string{
		"download.php":     `<?php header("X-Accel-Redirect: " . $_GET["f"]); echo "the application's body";`,
		"config.php":       `<?php $db_password = "hunter2-secret";`,
		"files/report.txt": "report\n",
	}
	for name, body := range files {
		check(t, os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755))
		check(t, os.WriteFile(filepath.Join(root, name), []byte(body), 0o644))
	}
	addr := startFront(t, root, php.Addr())
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		target string
		status int
		body   string
	}{
		{"/files/report.txt", 200, "report\n"},
		{"/config.php", 404, ""},
		{"/config.php/x", 404, ""},
		{"/download.php", 404, ""},
	} {
		resp, err := client.Get("http://" + addr + "/download.php?f=" + tc.target)
		check(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		check(t, err)
		if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "<?php") {
			t.Errorf("X-Accel-Redirect: %s served a script's source: %d %q", tc.target, resp.StatusCode, b)
			continue
		}
		if resp.StatusCode != tc.status || (tc.body != "" && string(b) != tc.body) {
			t.Errorf("X-Accel-Redirect: %s: %d %q, want %d %q", tc.target, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}
