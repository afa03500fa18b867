package handlers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTraversalAndHidden(t *testing.T) {
	outer := t.TempDir()
	root := filepath.Join(outer, "www")
	writeFile(t, outer, "secret.txt", "secret")
	writeFile(t, root, "ok.txt", "ok")
	writeFile(t, root, ".env", "KEY=1")
	writeFile(t, root, ".git/config", "x")
	writeFile(t, root, "a/.hidden/b.txt", "x")
	s := newStatic(t, root, nil)
	for _, target := range []string{"/.env", "/.git/config", "/a/.hidden/b.txt", "/.git/", "/ok.txt/", "/%2e%65nv"} {
		if r := serve(t, s, "GET", target); r.resp.Status != 404 {
			t.Errorf("%s: %d %q", target, r.resp.Status, r.body)
		}
	}
	// The parser refuses to climb above "/"; the handler must not rely on
	// it, so hand it raw dot segments directly.
	for _, path := range []string{"/../secret.txt", "/a/../../secret.txt", "/..", "/a/..", "secret.txt", ""} {
		req := parseReq(t, "GET", "/ok.txt")
		req.Path = []byte(path)
		if r := serveReq(t, s, req); r.resp.Status != 404 || r.body == "secret" {
			t.Errorf("raw %q: %d %q", path, r.resp.Status, r.body)
		}
	}
	if r := serve(t, s, "GET", "/a/../ok.txt"); r.body != "ok" {
		t.Errorf("normalized path: %q", r.body)
	}
}

func TestSymlinks(t *testing.T) {
	outer := t.TempDir()
	root := filepath.Join(outer, "www")
	writeFile(t, outer, "secret.txt", "secret")
	writeFile(t, root, "real/in.txt", "inside")
	must(t, os.Symlink("../secret.txt", filepath.Join(root, "out.txt")))
	must(t, os.Symlink(filepath.Join(outer, "secret.txt"), filepath.Join(root, "abs.txt")))
	must(t, os.Symlink("..", filepath.Join(root, "up")))
	must(t, os.Symlink("real", filepath.Join(root, "linkdir")))
	must(t, os.Symlink("real/in.txt", filepath.Join(root, "in-link.txt")))

	s := newStatic(t, root, nil)
	for _, target := range []string{"/out.txt", "/abs.txt", "/up/secret.txt"} {
		if r := serve(t, s, "GET", target); r.resp.Status != 404 {
			t.Errorf("%s: %d %q", target, r.resp.Status, r.body)
		}
	}
	for _, target := range []string{"/linkdir/in.txt", "/in-link.txt"} {
		if r := serve(t, s, "GET", target); r.body != "inside" {
			t.Errorf("%s: %d %q", target, r.resp.Status, r.body)
		}
	}
	follow := newStatic(t, root, func(c *StaticConfig) { c.FollowSymlinksOutside = true })
	for _, target := range []string{"/out.txt", "/abs.txt", "/up/secret.txt"} {
		if r := serve(t, follow, "GET", target); r.body != "secret" {
			t.Errorf("follow %s: %d", target, r.resp.Status)
		}
	}
}

func TestSymlinksFallbackResolver(t *testing.T) {
	outer := t.TempDir()
	root := filepath.Join(outer, "www")
	writeFile(t, outer, "secret.txt", "secret")
	writeFile(t, root, "real/in.txt", "inside")
	must(t, os.Symlink("../secret.txt", filepath.Join(root, "out.txt")))
	must(t, os.Symlink("real", filepath.Join(root, "linkdir")))
	s := newStatic(t, root, nil)
	s.res.noOpenat2.Store(true) // as on kernels without openat2
	if r := serve(t, s, "GET", "/out.txt"); r.resp.Status != 404 {
		t.Errorf("out: %d", r.resp.Status)
	}
	if r := serve(t, s, "GET", "/linkdir/in.txt"); r.body != "inside" {
		t.Errorf("in: %d", r.resp.Status)
	}
}

func TestSpecialFilesRefused(t *testing.T) {
	root := t.TempDir()
	must(t, unix.Mkfifo(filepath.Join(root, "fifo.txt"), 0o644))
	s := newStatic(t, root, nil)
	// Opening a fifo for reading would block without O_NONBLOCK; the test
	// would hang rather than fail, so a deadlock is the failure signal.
	if r := serve(t, s, "GET", "/fifo.txt"); r.resp.Status != 404 {
		t.Fatalf("fifo: %d", r.resp.Status)
	}
	if r := serve(t, newStatic(t, "/dev", func(c *StaticConfig) { c.CacheMaxFile = 1 }), "GET", "/null"); r.resp.Status != 404 {
		t.Fatalf("device: %d", r.resp.Status)
	}
}

func TestStatusFromError(t *testing.T) {
	_, notExist := os.Open("/nonexistent/x")
	for _, tc := range []struct {
		err  error
		want int
	}{
		{notExist, 404},
		{fmt.Errorf("wrapped: %w", fs.ErrNotExist), 404},
		{&fs.PathError{Op: "open", Path: "x", Err: unix.EACCES}, 403},
		{fs.ErrPermission, 403},
		{ErrOutsideRoot, 404},
		{ErrNotRegular, 404},
		{ErrHidden, 404},
		{&fs.PathError{Op: "open", Path: "x", Err: unix.ENOTDIR}, 404},
		{&fs.PathError{Op: "open", Path: "x", Err: unix.ENXIO}, 404},
		{errors.New("disk on fire"), 500},
	} {
		if got := StatusFromError(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
