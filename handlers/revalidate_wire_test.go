package handlers_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHotFileStaysCompressedOverTheWire: a page asked for every 100 ms for
// 1.5 s (past the once-a-second revalidation) is answered gzip every time.
// When revalidation failed, the entry was dropped each second and the
// request that refilled it went out uncompressed while the background
// compressor rebuilt the variants.
func TestHotFileStaysCompressedOverTheWire(t *testing.T) {
	root := t.TempDir()
	page := strings.Repeat("<p>gale keeps hot files compressed in memory</p>\n", 200)
	check(t, os.WriteFile(filepath.Join(root, "page.html"), []byte(page), 0o644))
	addr := startStatic(t, root)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() (encoding string) {
		req, err := http.NewRequest("GET", "http://"+addr+"/page.html", nil)
		check(t, err)
		// Set by hand, the Transport neither adds nor undoes gzip: the
		// header is what gale sent.
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		check(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		check(t, err)
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Fatalf("GET /page.html: %d, %d bytes", resp.StatusCode, len(body))
		}
		return resp.Header.Get("Content-Encoding")
	}
	// The first request fills the cache; the variants follow off the loop.
	for i := 0; get() != "gzip"; i++ {
		if i == 100 {
			t.Fatal("no gzip variant after 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 15 {
		time.Sleep(100 * time.Millisecond)
		if enc := get(); enc != "gzip" {
			t.Fatalf("request %d (%d ms after the first gzip answer): Content-Encoding %q, want gzip", i+1, (i+1)*100, enc)
		}
	}
}
