package handlers

import (
	"os"

	"golang.org/x/sys/unix"
)

// sendfileMin is the body size from which a cached representation is also
// kept in a memfd and answered with a file range instead of a body view:
// the reactor then sends it with sendfile, which hands the kernel page
// references instead of copying the bytes into the socket per response.
// Below it one writev of head and body is cheaper than two syscalls.
const sendfileMin = 32 << 10

// attachFiles copies each large representation into an anonymous memfd
// and takes the cache's reference to the entry. The memfd pages are charged
// to the cache budget. Without memfd support entries simply keep serving
// body views.
func (e *entry) attachFiles() {
	e.refs.Store(1)
	for enc := range e.reps {
		r := &e.reps[enc]
		if !r.ok || len(r.body) < sendfileMin {
			continue
		}
		fd, err := unix.MemfdCreate("gale-cache", unix.MFD_CLOEXEC)
		if err != nil {
			return
		}
		f := os.NewFile(uintptr(fd), "memfd:gale-cache"+e.key)
		if _, err := f.Write(r.body); err != nil {
			f.Close()
			continue
		}
		e.files[enc] = f
		e.cost += int64(len(r.body))
	}
}

// acquire takes a reference for a response that will send one of e's
// files; false once the cache dropped e and its last response finished.
func (e *entry) acquire() bool {
	for {
		n := e.refs.Load()
		if n <= 0 {
			return false
		}
		if e.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release drops a reference (a response's, or the cache's when it drops
// the entry); the last one closes the memfds. It implements FileRef.
func (e *entry) Release() {
	if e.refs.Add(-1) == 0 {
		for i, f := range e.files {
			if f != nil {
				f.Close()
				e.files[i] = nil
			}
		}
	}
}

// fileBody points resp at bytes [off, off+n) of representation enc when it
// has a memfd, and reports whether it did.
func (e *entry) fileBody(resp *Response, enc int, off, n int64) bool {
	f := e.files[enc]
	if f == nil || n < sendfileMin || !e.acquire() {
		return false
	}
	resp.File, resp.FileOff, resp.FileLen, resp.FileRef = f, off, n, e
	return true
}
