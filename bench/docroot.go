package main

import (
	"os"
	"path/filepath"
	"sync"
)

// docFile is one static file of the document root.
type docFile struct {
	Path string // URL path, also the name under the root
	Size int64
}

// docFiles are the static files every server serves.
var docFiles = []docFile{
	{"/612.bin", 612},
	{"/4k.bin", 4 << 10},
	{"/64k.bin", 64 << 10},
	{"/1m.bin", 1 << 20},
	{"/16m.bin", 16 << 20},
}

// helloPHP is the PHP script of the php-hello scenario. The Go FastCGI
// backend answers the same URL with the same body.
const (
	helloPHP     = `<?php echo "Hello, World!";`
	helloBody    = "Hello, World!"
	helloURLPath = "/hello.php"
)

// docAlphabet keeps the content printable, which makes a failed comparison
// readable in a hex dump.
const docAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_\n"

// docContent returns the deterministic content of a file of n bytes (at most
// the largest docFile): the same n always gives the same bytes, and a
// shorter file is a prefix of a longer one. The slice is shared: read only.
func docContent(n int64) []byte { return docBytes()[:n:n] }

// docBytes generates the largest file once.
var docBytes = sync.OnceValue(func() []byte {
	b := make([]byte, docFiles[len(docFiles)-1].Size)
	x := uint32(2463534242)
	for i := range b {
		// xorshift32: cheap, deterministic, not periodic on any short scale.
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = docAlphabet[x%uint32(len(docAlphabet))]
	}
	return b
})

// prepareRoot writes the document root into dir, world-readable so servers
// that drop privileges can serve it.
func prepareRoot(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range docFiles {
		if err := os.WriteFile(filepath.Join(dir, f.Path), docContent(f.Size), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, helloURLPath), []byte(helloPHP), 0o644)
}
