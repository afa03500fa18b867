package handlers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/upstream"
)

// newFront builds a front controller over a site with an uploads
// directory, a directory named like a script, and symlinks in and out.
func newFront(t testing.TB) *FrontController {
	t.Helper()
	outer := t.TempDir()
	root := filepath.Join(outer, "www")
	writeFile(t, outer, "outside.php", "<?php")
	writeFile(t, root, "index.php", "<?php")
	writeFile(t, root, "blog/index.php", "<?php")
	writeFile(t, root, "uploads/avatar.png", "GIF89a<?php")
	writeFile(t, root, "dir.php/inner.txt", "x")
	writeFile(t, root, ".git/hook.php", "<?php")
	must(t, os.Symlink("../outside.php", filepath.Join(root, "out.php")))
	must(t, os.Symlink("index.php", filepath.Join(root, "alias.php")))
	return NewFrontController(newStatic(t, root, nil), &upstream.Upstream{}, root)
}

// TestFrontControllerRunsOnlyExistingScripts: a script goes to the
// application only when it is a regular file below the root; PATH_INFO
// after an existing script is kept. Anything else with a script segment is
// 404 (cgi.fix_pathinfo would otherwise run the first file on its path).
func TestFrontControllerRunsOnlyExistingScripts(t *testing.T) {
	fc := newFront(t)
	for _, tc := range []struct {
		target, script, pathInfo string // script "" means 404
	}{
		{"/index.php", "/index.php", ""},
		{"/index.php/users/7", "/index.php", "/users/7"},
		{"/alias.php/a", "/alias.php", "/a"}, // a symlink to a script inside the root
		{"/blog/", "/blog/index.php", ""},
		{"/some/route", "/index.php", ""},
		{"/uploads/avatar.png/x.php", "", ""},
		{"/uploads/avatar.png/x.php/y", "", ""},
		{"/uploads/x.php", "", ""},
		{"/dir.php", "", ""},
		{"/dir.php/inner.txt", "", ""},
		{"/out.php", "", ""}, // a symlink leaving the root
		{"/.git/hook.php", "", ""},
	} {
		r := serve(t, fc, "GET", tc.target)
		route := r.resp.Upstream
		switch {
		case tc.script == "" && (route != nil || r.resp.Status != 404):
			t.Errorf("%s: routed %v, status %d; want 404", tc.target, route != nil, r.resp.Status)
		case tc.script != "" && route == nil:
			t.Errorf("%s: status %d, want %s to run", tc.target, r.resp.Status, tc.script)
		case tc.script != "" && (string(route.ScriptName) != tc.script || string(route.PathInfo) != tc.pathInfo):
			t.Errorf("%s: script %q path info %q, want %q %q", tc.target, route.ScriptName, route.PathInfo, tc.script, tc.pathInfo)
		}
	}
}

// TestRegularFile: the resolver's script check, with openat2 and with the
// fallback for kernels before 5.6, which must answer alike.
func TestRegularFile(t *testing.T) {
	fc := newFront(t)
	res := fc.Static.res
	for _, fallback := range []bool{false, true} {
		res.noOpenat2.Store(fallback)
		for rel, want := range map[string]bool{
			"index.php": true, "alias.php": true, "uploads/avatar.png/x.php": false,
			"dir.php": false, "out.php": false, "missing.php": false, "": false,
			"index.php\x00.png": false, // the kernel would stop at the NUL
		} {
			if got := res.regularFile([]byte(rel)); got != want {
				t.Errorf("fallback=%v: regularFile(%q) = %v, want %v", fallback, rel, got, want)
			}
		}
	}
}

// TestInternalRedirectRefusesScripts: an X-Accel-Redirect target is served
// by the static handler unless it is a script, whose source it would be.
func TestInternalRedirectRefusesScripts(t *testing.T) {
	fc := newFront(t)
	writeFile(t, fc.Static.cfg.Root, "files/report.txt", "report")
	r := serve(t, fc, "GET", "/index.php")
	internal := r.resp.Upstream.Internal
	if internal == nil {
		t.Fatal("no internal redirect handler")
	}
	for _, tc := range []struct {
		target string
		status int
		body   string
	}{
		{"/files/report.txt", 200, "report"},
		{"/index.php", 404, ""},
		{"/blog/index.php", 404, ""},
		{"/index.php/x", 404, ""},
		{"/files/../index.php", 404, ""},
	} {
		r := serve(t, internal, "GET", tc.target)
		if r.resp.Status != tc.status || (tc.body != "" && r.body != tc.body) || strings.Contains(r.body, "<?php") {
			t.Errorf("internal redirect to %s: %d %q, want %d", tc.target, r.resp.Status, r.body, tc.status)
		}
	}
}

// TestFrontControllerScriptCacheFollowsTheDisk: the scripts the front
// controller remembers as files follow the disk within the static cache's
// revalidation (under a second): a new script runs at once, a removed one
// is 404 within the second, a symlink put in its place that leaves the
// root too.
func TestFrontControllerScriptCacheFollowsTheDisk(t *testing.T) {
	fc := newFront(t)
	root := fc.Root
	routed := func(target string) bool { return serve(t, fc, "GET", target).resp.Upstream != nil }
	if routed("/new.php") {
		t.Fatal("a missing script was routed")
	}
	writeFile(t, root, "new.php", "<?php")
	if !routed("/new.php") {
		t.Fatal("a script created after a miss is not routed at once")
	}
	must(t, os.Remove(filepath.Join(root, "new.php")))
	must(t, os.Symlink("../outside.php", filepath.Join(root, "new.php")))
	deadline := time.Now().Add(2 * time.Second)
	for routed("/new.php") {
		if time.Now().After(deadline) {
			t.Fatal("a script replaced by a symlink out of the root is still routed after 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
