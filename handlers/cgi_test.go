package handlers

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-http/gale/upstream"
)

// TestCGIScriptCacheFollowsTheDisk: a cgi-bin handler (no extensions)
// routes the shortest file prefix with its PATH_INFO, from its script
// cache as from the disk; a removed script is 404 within the static
// cache's revalidation, and a directory on the way is never a script.
func TestCGIScriptCacheFollowsTheDisk(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "cgi-bin/env.sh", "#!/bin/sh")
	writeFile(t, root, "cgi-bin/sub/inner.sh", "#!/bin/sh")
	h := &CGI{Static: newStatic(t, root, nil), Upstream: &upstream.Upstream{}, Root: root}
	route := func(target string) (script, pathInfo string, ok bool) {
		r := serve(t, h, "GET", target)
		if r.resp.Upstream == nil {
			return "", "", false
		}
		return string(r.resp.Upstream.ScriptName), string(r.resp.Upstream.PathInfo), true
	}
	for range 2 { // from the disk, then from the cache
		if s, pi, ok := route("/cgi-bin/env.sh/x/y"); !ok || s != "/cgi-bin/env.sh" || pi != "/x/y" {
			t.Fatalf("/cgi-bin/env.sh/x/y: %q %q %v", s, pi, ok)
		}
		if s, pi, ok := route("/cgi-bin/sub/inner.sh"); !ok || s != "/cgi-bin/sub/inner.sh" || pi != "" {
			t.Fatalf("/cgi-bin/sub/inner.sh: %q %q %v", s, pi, ok)
		}
		if _, _, ok := route("/cgi-bin/sub/"); ok {
			t.Fatal("a directory was routed as a script")
		}
	}
	must(t, os.Remove(filepath.Join(root, "cgi-bin/env.sh")))
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, _, ok := route("/cgi-bin/env.sh/x"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a removed script is still routed after 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
