package handlers

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// eventually polls cond for at most 1.1 s: the promise is "never stale for
// more than a second".
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 110 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: still stale after 1.1 s", what)
}

// changes are the ways a served file gets replaced under the cache.
var changes = []struct {
	name   string
	change func(t *testing.T, root string)
	want   string // body after the change; "" means 404
}{
	{"in place", func(t *testing.T, root string) {
		must(t, os.WriteFile(filepath.Join(root, "f.txt"), []byte("version two"), 0o644))
	}, "version two"},
	{"same size and mtime", func(t *testing.T, root string) {
		writeFile(t, root, "f.txt", "VERSION 1") // only inotify can tell
	}, "VERSION 1"},
	{"atomic rename", func(t *testing.T, root string) {
		writeFile(t, root, "tmp.txt", "renamed in")
		must(t, os.Rename(filepath.Join(root, "tmp.txt"), filepath.Join(root, "f.txt")))
	}, "renamed in"},
	{"delete", func(t *testing.T, root string) {
		must(t, os.Remove(filepath.Join(root, "f.txt")))
	}, ""},
	{"symlink swap", func(t *testing.T, root string) {
		writeFile(t, root, "other.txt", "other target")
		must(t, os.Symlink("other.txt", filepath.Join(root, "tmp-link")))
		must(t, os.Rename(filepath.Join(root, "tmp-link"), filepath.Join(root, "link.txt")))
	}, "other target"},
}

// setupChange serves /f.txt and /link.txt (-> f.txt) once so both are cached.
func setupChange(t *testing.T, s *Static, root string) {
	for _, p := range []string{"/f.txt", "/link.txt"} {
		if r := serve(t, s, "GET", p); r.body != "version 1" {
			t.Fatalf("%s: %q", p, r.body)
		}
		if s.cache.get([]byte(p)) == nil {
			t.Fatalf("%s not cached", p)
		}
	}
}

func newChangeRoot(t *testing.T) string {
	root := t.TempDir()
	writeFile(t, root, "f.txt", "version 1")
	must(t, os.Symlink("f.txt", filepath.Join(root, "link.txt")))
	return root
}

func TestInotifyDropsEntries(t *testing.T) {
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			root := newChangeRoot(t)
			s := newStatic(t, root, nil)
			if s.watch == nil {
				t.Fatal("inotify unavailable")
			}
			setupChange(t, s, root)
			c.change(t, root)
			path := "/f.txt"
			if c.name == "symlink swap" {
				path = "/link.txt"
			}
			// No request in between: only the watcher can drop the entry.
			eventually(t, c.name, func() bool { return s.cache.get([]byte(path)) == nil })
			checkServed(t, s, path, c.want)
		})
	}
}

func TestRevalidationWithoutInotify(t *testing.T) {
	for _, c := range changes {
		if c.name == "same size and mtime" {
			continue // indistinguishable by stat; inotify's job
		}
		t.Run(c.name, func(t *testing.T) {
			root := newChangeRoot(t)
			s := newStatic(t, root, nil)
			if s.watch != nil {
				s.watch.close()
				s.watch, s.cache.onDrop = nil, nil
			}
			setupChange(t, s, root)
			c.change(t, root)
			path := "/f.txt"
			if c.name == "symlink swap" {
				path = "/link.txt"
			}
			eventually(t, c.name, func() bool {
				r := serve(t, s, "GET", path)
				return r.body == c.want || (c.want == "" && r.resp.Status == 404)
			})
		})
	}
}

func checkServed(t *testing.T, s *Static, path, want string) {
	t.Helper()
	r := serve(t, s, "GET", path)
	if want == "" {
		if r.resp.Status != 404 {
			t.Fatalf("%s: %d %q, want 404", path, r.resp.Status, r.body)
		}
		return
	}
	if r.body != want {
		t.Fatalf("%s: %q, want %q", path, r.body, want)
	}
}

func TestDirectoryRenameDropsEntries(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "d/a.txt", "in d")
	s := newStatic(t, root, nil)
	if r := serve(t, s, "GET", "/d/a.txt"); r.body != "in d" {
		t.Fatal(r.body)
	}
	must(t, os.Rename(filepath.Join(root, "d"), filepath.Join(root, "gone")))
	eventually(t, "dir rename", func() bool { return s.cache.get([]byte("/d/a.txt")) == nil })
	checkServed(t, s, "/d/a.txt", "")
}

func TestQueueOverflowDropsAll(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "a")
	writeFile(t, root, "b/b.txt", "b")
	s := newStatic(t, root, nil)
	serve(t, s, "GET", "/a.txt")
	serve(t, s, "GET", "/b/b.txt")
	s.watch.event(-1, 0x4000 /* IN_Q_OVERFLOW */, "")
	if s.cache.get([]byte("/a.txt")) != nil || s.cache.get([]byte("/b/b.txt")) != nil || s.cache.total.Load() != 0 {
		t.Fatal("overflow kept entries")
	}
	if len(s.watch.index) != 0 {
		t.Fatalf("index not cleaned: %v", s.watch.index)
	}
}
