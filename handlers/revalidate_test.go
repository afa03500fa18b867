package handlers

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestResolverStat: the once-a-second revalidation stats through an O_PATH
// open. openat2(2) refuses O_PATH with any flag but O_DIRECTORY, O_NOFOLLOW
// and O_CLOEXEC (EINVAL) where open(2) ignores them, so resolver.open must
// not add O_NOCTTY to it.
func TestResolverStat(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "d/f.txt", "twelve bytes")
	r, err := newResolver(root, false)
	must(t, err)
	defer r.close()
	st, err := r.stat("d/f.txt")
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 12 {
		t.Fatalf("stat: mode %o size %d", st.Mode, st.Size)
	}
	if r.noOpenat2.Load() {
		t.Log("no openat2 on this kernel: the fallback was tested")
	}
}

// TestRevalidationKeepsUnchangedEntry: an entry whose file has not changed
// survives its revalidation, compressed variants included: the request
// that revalidates is a cache hit, answered gzip, from the same entry.
func TestRevalidationKeepsUnchangedEntry(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	s := newStatic(t, root, nil)
	warm(t, s, "/app.js")
	e := s.cache.get([]byte("/app.js"))
	for i := range 3 {
		s.clock.Add(revalidateTicks) // as if a second went by
		r := serve(t, s, "GET", "/app.js", "Accept-Encoding: gzip")
		if r.resp.Cache != CacheHit || header(r.head, "Content-Encoding") != "gzip" {
			t.Fatalf("revalidation %d: cache %d, Content-Encoding %q", i+1, r.resp.Cache, header(r.head, "Content-Encoding"))
		}
		if got := s.cache.get([]byte("/app.js")); got != e {
			t.Fatalf("revalidation %d replaced the entry (%p -> %p)", i+1, e, got)
		}
		if e.checked.Load() != s.clock.Load() {
			t.Fatalf("revalidation %d did not run", i+1)
		}
	}
}
