package handlers

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// resolver opens paths below the document root without ever leaving it.
//
// With openat2(2) and RESOLVE_BENEATH the kernel resolves every component,
// symlinks included, relative to the root's fd and fails with EXDEV on any
// escape, so a symlink swapped between check and open cannot win a race.
// Kernels before 5.6 (ENOSYS) fall back to EvalSymlinks plus a prefix check
// and an O_NOFOLLOW open of the result, which is only as strong as the
// filesystem is quiet.
type resolver struct {
	root          string // absolute, symlinks resolved
	rootFd        int
	followOutside bool
	noOpenat2     atomic.Bool
}

func newResolver(root string, followOutside bool) (*resolver, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(real, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: real, Err: err}
	}
	return &resolver{root: real, rootFd: fd, followOutside: followOutside}, nil
}

func (r *resolver) close() error { return unix.Close(r.rootFd) }

// abs is the lexical absolute path of rel.
func (r *resolver) abs(rel string) string { return filepath.Join(r.root, rel) }

// open opens rel (no leading slash, no dot segments) below the root with
// flags; callers pass O_NONBLOCK or O_PATH so a fifo or device never blocks
// the event loop.
func (r *resolver) open(rel string, flags int) (int, error) {
	if rel == "" {
		rel = "."
	}
	flags |= unix.O_CLOEXEC
	if flags&unix.O_PATH == 0 {
		// openat2(2), unlike open(2), refuses O_PATH with any flag but
		// O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC (EINVAL): with O_NOCTTY
		// every revalidation's stat failed and dropped its entry. An
		// O_PATH fd cannot become a controlling terminal anyway.
		flags |= unix.O_NOCTTY
	}
	if !r.noOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_NO_MAGICLINKS}
		if !r.followOutside {
			how.Resolve |= unix.RESOLVE_BENEATH
		}
		for range 3 { // EAGAIN: a concurrent rename raced the lookup
			fd, err := unix.Openat2(r.rootFd, rel, &how)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != unix.ENOSYS {
				return fd, wrapPathErr(rel, err)
			}
			r.noOpenat2.Store(true)
			break
		}
	}
	if r.followOutside {
		fd, err := unix.Openat(r.rootFd, rel, flags, 0)
		return fd, wrapPathErr(rel, err)
	}
	real, err := filepath.EvalSymlinks(r.abs(rel))
	if err != nil {
		return -1, err
	}
	if real != r.root && !strings.HasPrefix(real, r.root+"/") {
		return -1, ErrOutsideRoot
	}
	fd, err := unix.Open(real, flags|unix.O_NOFOLLOW, 0)
	return fd, wrapPathErr(rel, err)
}

func wrapPathErr(rel string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EXDEV) {
		return ErrOutsideRoot
	}
	return &os.PathError{Op: "open", Path: rel, Err: err}
}

// stat resolves rel again and stats what it names now.
func (r *resolver) stat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := r.open(rel, unix.O_PATH)
	if err != nil {
		return st, err
	}
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	return st, err
}

// realPath is where an open fd's file lives, symlinks resolved.
func realPath(fd int) string {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return ""
	}
	return p
}

// hiddenPath reports whether a clean absolute path has a segment starting
// with '.' (".git", ".env", ".well-known" alike).
func hiddenPath(p []byte) bool {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '/' && p[i+1] == '.' {
			return true
		}
	}
	return false
}
