package handlers

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

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

// pathBuf is how long a path may be before resolving it costs an
// allocation: open and regularFile build the NUL-terminated path openat2
// needs in a stack buffer of this size (unix.Openat2 copies its string
// argument into a new allocation on every call).
const pathBuf = 512

// open opens rel (no leading slash, no dot segments) below the root with
// flags; callers pass O_NONBLOCK or O_PATH so a fifo or device never blocks
// the event loop.
func (r *resolver) open(rel string, flags int) (int, error) {
	if rel == "" {
		rel = "."
	}
	fd, viaOpenat2, err := openBelow(r, rel, flags)
	if viaOpenat2 {
		err = wrapPathErr(rel, err)
	}
	return fd, err
}

// openBelow is open and regularFile's lookup: openat2 on a stack copy of
// rel (no allocation below pathBuf), openFallback where the kernel has no
// openat2. viaOpenat2 says err is openat2's bare errno, not yet wrapped.
func openBelow[T string | []byte](r *resolver, rel T, flags int) (fd int, viaOpenat2 bool, err error) {
	flags = openFlags(flags)
	if !r.noOpenat2.Load() {
		var buf [pathBuf]byte
		if fd, err := r.openat2(append(append(buf[:0], rel...), 0), flags); err != unix.ENOSYS {
			return fd, true, err
		}
	}
	fd, err = r.openFallback(string(rel), flags)
	return fd, false, err
}

// openFlags adds what every open below the root carries.
func openFlags(flags int) int {
	flags |= unix.O_CLOEXEC
	if flags&unix.O_PATH == 0 {
		// openat2(2), unlike open(2), refuses O_PATH with any flag but
		// O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC (EINVAL): with O_NOCTTY
		// every revalidation's stat failed and dropped its entry. An
		// O_PATH fd cannot become a controlling terminal anyway.
		flags |= unix.O_NOCTTY
	}
	return flags
}

// openat2 opens path (NUL-terminated, relative to the root) with
// openat2(2), without allocating. ENOSYS tells the caller to take
// openFallback: on kernels before 5.6 (remembered), and when renames
// raced the lookup three times in a row.
func (r *resolver) openat2(path []byte, flags int) (int, error) {
	if bytes.IndexByte(path[:len(path)-1], 0) >= 0 {
		// The kernel would stop at the first NUL: "a.php\x00.png" would
		// open a.php. The parser refuses NUL in paths; this is its
		// backstop, as unix.Openat2 refuses such a string (EINVAL).
		return -1, unix.EINVAL
	}
	how := unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_NO_MAGICLINKS}
	if !r.followOutside {
		how.Resolve |= unix.RESOLVE_BENEATH
	}
	for range 3 { // EAGAIN: a concurrent rename raced the lookup
		fd, _, errno := unix.Syscall6(unix.SYS_OPENAT2, uintptr(r.rootFd), uintptr(unsafe.Pointer(&path[0])),
			uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
		switch errno {
		case 0:
			return int(fd), nil
		case unix.EAGAIN, unix.EINTR:
			continue
		case unix.ENOSYS:
			r.noOpenat2.Store(true)
		}
		return -1, errno
	}
	return -1, unix.ENOSYS
}

// openFallback opens rel without openat2: EvalSymlinks, a prefix check
// and an O_NOFOLLOW open of the result.
func (r *resolver) openFallback(rel string, flags int) (int, error) {
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

// regularFile reports whether rel (no leading slash, no dot segments)
// names a regular file below the root, resolved as open resolves it. The
// front controller asks it for every script it hands to the application,
// so with openat2 it allocates nothing (for paths shorter than pathBuf).
func (r *resolver) regularFile(rel []byte) bool {
	if len(rel) == 0 {
		return false // the root itself
	}
	fd, _, err := openBelow(r, rel, unix.O_PATH)
	if err != nil {
		return false
	}
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
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

// wellKnownPrefix is the one hidden directory gale serves (RFC 8615):
// certbot's webroot challenges and security.txt live there.
const wellKnownPrefix = "/.well-known/"

// wellKnown reports whether a clean absolute path is below /.well-known/
// with no other hidden segment (/.well-known/.htpasswd stays hidden).
func wellKnown(p []byte) bool {
	return len(p) > len(wellKnownPrefix) && string(p[:len(wellKnownPrefix)]) == wellKnownPrefix &&
		!hiddenPath(p[len(wellKnownPrefix)-1:])
}

// hiddenPath reports whether a clean absolute path has a segment starting
// with '.' (".git", ".env", ".well-known" alike; the static handler makes
// the exception for wellKnown files).
func hiddenPath(p []byte) bool {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '/' && p[i+1] == '.' {
			return true
		}
	}
	return false
}
