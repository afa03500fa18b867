package handlers

import (
	"fmt"
	"sync"
	"testing"
)

func TestCacheEvictsWithinBudget(t *testing.T) {
	root := t.TempDir()
	for i := range 20 {
		writeFile(t, root, fmt.Sprintf("f%02d.bin", i), string(noise(800)))
	}
	s := newStatic(t, root, func(c *StaticConfig) { c.CacheMaxFile = 1000; c.CacheMaxTotal = 6000 })
	for i := range 20 {
		if r := serve(t, s, "GET", fmt.Sprintf("/f%02d.bin", i)); r.resp.Status != 200 || len(r.body) != 800 {
			t.Fatalf("%d: %d", i, r.resp.Status)
		}
		if total := s.cache.total.Load(); total > 6000 {
			t.Fatalf("total %d over budget", total)
		}
	}
	n := 0
	for i := range s.cache.shards {
		n += len(*s.cache.shards[i].m.Load())
	}
	if n == 0 || n >= 20 {
		t.Fatalf("%d entries cached", n)
	}
	// Every evicted entry left the watcher's index too.
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	for p, set := range s.watch.index {
		for e := range set {
			if s.cache.get([]byte(e.key)) != e {
				t.Fatalf("%s: evicted entry still indexed", p)
			}
		}
	}
}

func TestCacheConcurrentFillAndHit(t *testing.T) {
	root := t.TempDir()
	for i := range 8 {
		writeFile(t, root, fmt.Sprintf("f%d.txt", i), fmt.Sprint("body ", i))
	}
	s := newStatic(t, root, func(c *StaticConfig) { c.CacheMaxTotal = 3000 })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (i + g) % 8
				r := serve(t, s, "GET", fmt.Sprintf("/f%d.txt", k))
				if r.body != fmt.Sprint("body ", k) {
					t.Errorf("f%d: %q", k, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A stale entry (a fresh fill published meanwhile) must neither be replaced
// by the compressor's copy nor removed, or it would drop the newer entry.
func TestCacheStaleReplaceAndRemove(t *testing.T) {
	c := newCache(1 << 20)
	mk := func() *entry {
		e := &entry{key: "/a", cost: 10}
		e.refs.Store(1)
		return e
	}
	old, cur, ne := mk(), mk(), mk()
	c.put(old)
	c.put(cur) // replaces old
	if c.replace(old, ne) {
		t.Fatal("replace of a stale entry succeeded")
	}
	c.remove(old)
	if got := c.get([]byte("/a")); got != cur {
		t.Fatalf("get = %p, want the current entry %p", got, cur)
	}
	if c.total.Load() != 10 {
		t.Fatalf("total %d, want 10", c.total.Load())
	}
	if !c.replace(cur, ne) || c.get([]byte("/a")) != ne {
		t.Fatal("replace of the current entry failed")
	}
	c.remove(ne)
	if c.get([]byte("/a")) != nil || c.total.Load() != 0 {
		t.Fatalf("after remove: %p, total %d", c.get([]byte("/a")), c.total.Load())
	}
}
