package handlers

import (
	"strings"
	"testing"
)

func TestRefuseListMatch(t *testing.T) {
	rl, err := NewRefuseList(DefaultRefuse)
	must(t, err)
	for path, want := range map[string]bool{
		"/manage.py": true, "/app/settings.py": true, "/app/__pycache__/x.pyc": true,
		"/db.sqlite3": true, "/prod.env": true, "/config.php~": true, "/dump.sql": true,
		"/composer.json": true, "/composer.lock": true,
		"/vendor/autoload.php": true, "/vendor": true, "/conf/local.php": true,
		"/data/pages/start.txt": true, "/data/": true, "/bin/indexer.php": true,
		"/": false, "/index.php": false, "/py": false, "/a.pyx": false, "/x.py/": false,
		"/my-composer.json": false, "/composer.json.txt": false, "/database": false,
		"/lib/plugins/x/vendor/select2.css": false, "/lib/tpl/conf/": false,
		"/vendors/x.js": false, "/data.json": false,
	} {
		if got := rl.Match([]byte(path)); got != want {
			t.Errorf("Match(%q) = %v, want %v", path, got, want)
		}
	}
	var zero RefuseList
	if zero.Match([]byte("/manage.py")) {
		t.Error("the zero RefuseList refuses")
	}
	for _, bad := range []string{"", "*", "/", "*.a/b", "*a*", "/vendor", "vendor/", "/a//b/", "a/b"} {
		if _, err := NewRefuseList([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

// TestFrontControllerRefusesSourcesAndData: the one-liner's front
// controller neither serves nor runs Python sources, databases, Composer
// manifests or DokuWiki's private directories; a refused file path goes to
// the application as an unknown path would, a refused script is 404.
func TestFrontControllerRefusesSourcesAndData(t *testing.T) {
	fc := newFront(t)
	root := fc.Static.cfg.Root
	for _, f := range []string{"manage.py", "proj/settings.py", "db.sqlite3", "composer.json", "vendor/autoload.php",
		"conf/local.php", "data/pages/start.txt", "bin/indexer.php", "index.php~", "lib/plugins/p/vendor/a.css", "lib/style.css"} {
		writeFile(t, root, f, "SECRET "+f)
	}
	for _, tc := range []struct {
		target string
		script string // "": 404; else the script that runs
		body   string // served as a file
	}{
		{"/manage.py", "/index.php", ""},
		{"/proj/settings.py", "/index.php", ""},
		{"/db.sqlite3", "/index.php", ""},
		{"/composer.json", "/index.php", ""},
		{"/index.php~", "/index.php", ""},
		{"/data/pages/start.txt", "/index.php", ""},
		{"/data/", "/index.php", ""}, // a WordPress page named data
		{"/conf/", "/index.php", ""},
		{"/vendor/autoload.php", "", ""},
		{"/conf/local.php", "", ""},
		{"/bin/indexer.php", "", ""},
		{"/lib/plugins/p/vendor/a.css", "", "SECRET lib/plugins/p/vendor/a.css"},
		{"/lib/style.css", "", "SECRET lib/style.css"},
	} {
		r := serve(t, fc, "GET", tc.target)
		route := r.resp.Upstream
		switch {
		case strings.Contains(r.body, "SECRET") && tc.body == "":
			t.Errorf("%s: served %q", tc.target, r.body)
		case tc.body != "" && r.body != tc.body:
			t.Errorf("%s: %d %q, want %q", tc.target, r.resp.Status, r.body, tc.body)
		case tc.script != "" && (route == nil || string(route.ScriptName) != tc.script):
			t.Errorf("%s: status %d, want %s to run", tc.target, r.resp.Status, tc.script)
		case tc.script == "" && tc.body == "" && (route != nil || r.resp.Status != 404):
			t.Errorf("%s: routed %v status %d, want 404", tc.target, route != nil, r.resp.Status)
		}
	}
	// Internal redirects are refused the same paths.
	internal := serve(t, fc, "GET", "/index.php").resp.Upstream.Internal
	for _, target := range []string{"/manage.py", "/data/pages/start.txt", "/composer.json"} {
		if r := serve(t, internal, "GET", target); r.resp.Status != 404 || strings.Contains(r.body, "SECRET") {
			t.Errorf("internal redirect to %s: %d %q", target, r.resp.Status, r.body)
		}
	}
}

// TestWellKnownServed: files below /.well-known/ are served (ACME
// challenges, security.txt); its directories, and every other dotfile,
// are not.
func TestWellKnownServed(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, ".well-known/acme-challenge/tok123", "tok123.key")
	writeFile(t, root, ".well-known/security.txt", "Contact: mailto:x@example.com\n")
	writeFile(t, root, ".well-known/acme-challenge/index.html", "listing")
	writeFile(t, root, ".well-known/.htpasswd", "admin:hash")
	writeFile(t, root, ".well-known/a/.git/config", "x")
	writeFile(t, root, ".git/config", "x")
	writeFile(t, root, ".env", "x")
	s := newStatic(t, root, func(c *StaticConfig) { c.DirListing = true })
	for target, want := range map[string]string{
		"/.well-known/acme-challenge/tok123": "tok123.key",
		"/.well-known/security.txt":          "Contact: mailto:x@example.com\n",
	} {
		if r := serve(t, s, "GET", target); r.resp.Status != 200 || r.body != want {
			t.Errorf("%s: %d %q, want %q", target, r.resp.Status, r.body, want)
		}
	}
	for _, target := range []string{"/.well-known", "/.well-known/", "/.well-known/acme-challenge", "/.well-known/acme-challenge/",
		"/.well-known/.htpasswd", "/.well-known/a/.git/config", "/.git/config", "/.env", "/.well-knownx/a"} {
		if r := serve(t, s, "GET", target); r.resp.Status != 404 {
			t.Errorf("%s: %d %q, want 404", target, r.resp.Status, r.body)
		}
	}
	// A script there is not run.
	fc := newFront(t)
	writeFile(t, fc.Static.cfg.Root, ".well-known/x.php", "<?php")
	if r := serve(t, fc, "GET", "/.well-known/x.php"); r.resp.Upstream != nil || r.resp.Status != 404 {
		t.Errorf("/.well-known/x.php: routed %v status %d", r.resp.Upstream != nil, r.resp.Status)
	}
}
