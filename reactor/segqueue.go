package reactor

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// errShortFile: a file segment ended before its length (the file shrank).
var errShortFile = errors.New("file ended before the queued range")

// segOwner owns the bytes of segments queued for writing: it holds them
// until segmentDone has run once for each segment it queued, written or
// dropped with the connection.
type segOwner interface {
	segmentDone()
}

// segment is one piece of what an upstream connection still has to write:
// bytes in memory, or a range of a file sent with sendfile. Neither is
// copied: owner keeps them alive until the segment is done.
type segment struct {
	mem   []byte
	file  *os.File
	fd    int
	off   int64
	left  int64
	owner segOwner
}

func (s *segment) isFile() bool { return s.file != nil }

// segQueue is the FIFO of segments an upstream connection writes, in the
// order they were queued (nginx's output chain): a request's body file is
// followed by the next request's records, never overtaken by them, and an
// ABORT goes after the records it cancels. It is owned by one loop.
type segQueue struct {
	segs []segment
	head int
	iov  [][]byte // scratch for writev
}

// busy reports whether anything is still to be written.
func (q *segQueue) busy() bool { return q.head < len(q.segs) }

// pushMem queues b, owned by o (nil: b lives as long as the queue's user).
func (q *segQueue) pushMem(b []byte, o segOwner) {
	if len(b) == 0 {
		return
	}
	q.segs = append(q.segs, segment{mem: b, owner: o})
}

// pushFile queues n bytes of f from off, owned by o.
func (q *segQueue) pushFile(f *os.File, off, n int64, o segOwner) {
	if n <= 0 {
		return
	}
	q.segs = append(q.segs, segment{file: f, fd: int(f.Fd()), off: off, left: n, owner: o})
}

// pop ends the head segment and tells its owner.
func (q *segQueue) pop() {
	s := &q.segs[q.head]
	o := s.owner
	*s = segment{}
	q.head++
	if q.head == len(q.segs) {
		q.segs, q.head = q.segs[:0], 0
	}
	if o != nil {
		o.segmentDone()
	}
}

// drop ends every segment unwritten (the connection is gone).
func (q *segQueue) drop() {
	for q.busy() {
		q.pop()
	}
}

// advance takes n written bytes off the memory segments at the head.
func (q *segQueue) advance(n int) {
	for n > 0 {
		s := &q.segs[q.head]
		if n < len(s.mem) {
			s.mem = s.mem[n:]
			return
		}
		n -= len(s.mem)
		q.pop()
	}
}

// write writes as much of the queue to fd as the socket takes now.
func (q *segQueue) write(fd int) (pumpResult, error) {
	for q.busy() {
		if s := &q.segs[q.head]; s.isFile() {
			n, err := unix.Sendfile(fd, s.fd, &s.off, int(min(s.left, sendfileChunk)))
			if n > 0 {
				s.left -= int64(n)
				if s.left == 0 {
					q.pop()
				}
			}
			switch {
			case err == unix.EAGAIN:
				return pumpStalled, nil
			case err == unix.EINTR || (err == nil && n > 0):
				continue
			case err == nil:
				return pumpFailed, errShortFile // the spool file shrank
			default:
				return pumpFailed, err
			}
		}
		iov := q.iov[:0]
		i := q.head
		for ; i < len(q.segs) && !q.segs[i].isFile() && len(iov) < maxIovecs; i++ {
			iov = append(iov, q.segs[i].mem)
		}
		var n int
		var err error
		if i < len(q.segs) && q.segs[i].isFile() {
			// A file follows: MSG_MORE lets the records ride in the same
			// segment as the file's first bytes.
			n, err = unix.SendmsgBuffers(fd, iov, nil, nil, unix.MSG_MORE)
		} else {
			n, err = unix.Writev(fd, iov)
		}
		clear(iov)
		q.iov = iov[:0]
		if n > 0 {
			q.advance(n)
		}
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			return pumpStalled, nil
		default:
			return pumpFailed, err
		}
	}
	return pumpDone, nil
}
