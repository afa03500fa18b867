package main

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestScanPython: the reload watch sees the project's *.py files and
// skips caches, hidden directories and virtualenvs; a rewrite, a new file
// and a removal each count as a change.
func TestScanPython(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"app.py", "pkg/views.py", "pkg/data.json", "__pycache__/app.cpython-311.py",
		".git/hook.py", "venv/pyvenv.cfg", "venv/lib/site.py", "node_modules/x.py"} {
		writeFile(t, dir, f, "x = 1\n")
	}
	files, truncated := scanPython(dir)
	var got []string
	for p := range files {
		rel, _ := filepath.Rel(dir, p)
		got = append(got, rel)
	}
	sort.Strings(got)
	if truncated || len(got) != 2 || got[0] != "app.py" || got[1] != "pkg/views.py" {
		t.Fatalf("scanned %v (truncated %v); want app.py and pkg/views.py", got, truncated)
	}
	if c := firstChange(files, files); c != "" {
		t.Errorf("no change reported %q", c)
	}
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(dir, "app.py"), later, later)
	after, _ := scanPython(dir)
	if c := firstChange(files, after); c != filepath.Join(dir, "app.py") {
		t.Errorf("a rewrite: change %q", c)
	}
	writeFile(t, dir, "new.py", "")
	os.Remove(filepath.Join(dir, "pkg/views.py"))
	again, _ := scanPython(dir)
	if c := firstChange(after, again); c == "" {
		t.Errorf("a new file and a removal: no change")
	}
	delete(again, filepath.Join(dir, "new.py"))
	if c := firstChange(after, again); c != filepath.Join(dir, "pkg/views.py") {
		t.Errorf("a removal: change %q", c)
	}
}
