package handlers

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchMask is every event that can make a cached file stale: its content
// (modify, close after write, attributes), its name (create, delete, moves
// in and out, which is how atomic renames and symlink swaps look), and the
// directory itself going away.
const watchMask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_CREATE |
	unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// watcher drops cache entries on inotify events. It watches the directory
// of every path an entry depends on (the requested name, the resolved file,
// the sidecars). Watches stay until Close: directories are few, and the
// kernel drops a watch by itself when its directory goes away.
//
// inotify is the fast path only; Static.fresh re-stats every entry at most
// once a second, which also covers what inotify cannot see (a symlinked
// directory swapped higher up, an exhausted watch limit, NFS).
type watcher struct {
	f     *os.File
	fd    int
	cache *cache
	done  chan struct{}

	mu    sync.Mutex
	dirs  map[string]int32               // watched directory -> wd
	wds   map[int32]string               // wd -> directory
	index map[string]map[*entry]struct{} // path -> entries depending on it
}

// newWatcher starts the event goroutine; it returns nil when inotify is
// unavailable, leaving revalidation to the periodic re-stat.
func newWatcher(c *cache) *watcher {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	w := &watcher{
		// A non-blocking fd goes to the runtime poller, so Close wakes run.
		f:     os.NewFile(uintptr(fd), "inotify"),
		fd:    fd,
		cache: c,
		done:  make(chan struct{}),
		dirs:  map[string]int32{},
		wds:   map[int32]string{},
		index: map[string]map[*entry]struct{}{},
	}
	go w.run()
	return w
}

// close stops the goroutine and waits for it.
func (w *watcher) close() error {
	err := w.f.Close()
	<-w.done
	return err
}

// track registers e's paths and watches their directories.
func (w *watcher) track(e *entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range e.paths {
		dir := filepath.Dir(p)
		if _, ok := w.dirs[dir]; !ok {
			wd, err := unix.InotifyAddWatch(w.fd, dir, watchMask)
			if err == nil {
				w.dirs[dir] = int32(wd)
				w.wds[int32(wd)] = dir
			}
		}
		set := w.index[p]
		if set == nil {
			set = map[*entry]struct{}{}
			w.index[p] = set
		}
		set[e] = struct{}{}
	}
}

// forget removes e from the index; the cache calls it on every drop.
func (w *watcher) forget(e *entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range e.paths {
		if set := w.index[p]; set != nil {
			delete(set, e)
			if len(set) == 0 {
				delete(w.index, p)
			}
		}
	}
}

func (w *watcher) run() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return // closed
		}
		w.handle(buf[:n])
	}
}

// handle decodes a batch of inotify events.
func (w *watcher) handle(buf []byte) {
	for len(buf) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[0]))
		nameEnd := unix.SizeofInotifyEvent + int(ev.Len)
		if nameEnd > len(buf) {
			return
		}
		name := strings.TrimRight(string(buf[unix.SizeofInotifyEvent:nameEnd]), "\x00")
		w.event(ev.Wd, ev.Mask, name)
		buf = buf[nameEnd:]
	}
}

// event drops the entries one event can affect.
func (w *watcher) event(wd int32, mask uint32, name string) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		w.cache.clear() // events were lost: trust nothing
		return
	}
	w.mu.Lock()
	dir, ok := w.wds[wd]
	if mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 && ok {
		if mask&unix.IN_IGNORED != 0 {
			delete(w.wds, wd)
			delete(w.dirs, dir)
		}
		name = "" // the directory itself: everything below it
	}
	var victims []*entry
	if ok {
		p := dir
		if name != "" {
			p = filepath.Join(dir, name)
		}
		victims = w.below(p, name == "" || mask&unix.IN_ISDIR != 0)
	}
	w.mu.Unlock()
	for _, e := range victims {
		w.cache.remove(e) // calls forget, which takes w.mu
	}
}

// below collects the entries depending on p, and on paths under p when p is
// a directory. Called with w.mu held.
func (w *watcher) below(p string, isDir bool) []*entry {
	var out []*entry
	for e := range w.index[p] {
		out = append(out, e)
	}
	if isDir {
		prefix := p + "/"
		for q, set := range w.index {
			if strings.HasPrefix(q, prefix) {
				for e := range set {
					out = append(out, e)
				}
			}
		}
	}
	return out
}
