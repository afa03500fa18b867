package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestPrepareRoot(t *testing.T) {
	dir := t.TempDir()
	if err := prepareRoot(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range docFiles {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != f.Size || !bytes.Equal(b, docContent(f.Size)) {
			t.Errorf("%s: %d bytes, want %d of docContent", f.Path, len(b), f.Size)
		}
	}
	php, err := os.ReadFile(filepath.Join(dir, "hello.php"))
	if err != nil || string(php) != `<?php echo "Hello, World!";` {
		t.Errorf("hello.php = %q, %v", php, err)
	}
}

func TestDocContentDeterministic(t *testing.T) {
	// Pinned so a change of generator (which would change every file and
	// every past result's meaning) is noticed.
	if got := string(docContent(16)); got != "fv302wNAUeqtZO9R" {
		t.Errorf("docContent(16) = %q", got)
	}
	small, big := docContent(612), docContent(1<<20)
	if !bytes.Equal(small, big[:612]) {
		t.Error("a shorter file is not a prefix of a longer one")
	}
	for _, c := range big {
		if !bytes.ContainsRune([]byte(docAlphabet), rune(c)) {
			t.Fatalf("byte %q outside the alphabet", c)
		}
	}
}
