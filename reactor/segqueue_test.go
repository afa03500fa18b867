package reactor

import (
	"bytes"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

type countOwner struct{ done int }

func (o *countOwner) segmentDone() { o.done++ }

func socketPair(t *testing.T) (w, r int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func tempFile(t *testing.T, content []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "seg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	return f
}

// readAll reads what is available on fd without blocking.
func readAvail(t *testing.T, fd int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			out = append(out, buf[:n]...)
		}
		if err == unix.EAGAIN || n == 0 {
			return out
		}
		if err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
	}
}

// TestSegQueueOrderAndOwnership: memory, file ranges and memory again
// come out in the order queued, each owner told once per segment, only
// after its bytes were written.
func TestSegQueueOrderAndOwnership(t *testing.T) {
	w, r := socketPair(t)
	a, b := &countOwner{}, &countOwner{}
	f1 := tempFile(t, []byte("0123456789FILE-ONE"))
	f2 := tempFile(t, []byte("FILE-TWO"))
	var q segQueue
	q.pushMem([]byte("head-a|"), a)
	q.pushFile(f1, 10, 8, a)
	q.pushMem([]byte("|head-b|"), b)
	q.pushFile(f2, 0, 8, b)
	q.pushMem([]byte("|abort-a"), a)
	if a.done != 0 || b.done != 0 {
		t.Fatal("owner told before any write")
	}
	res, err := q.write(w)
	if res != pumpDone || err != nil {
		t.Fatalf("write: %v %v", res, err)
	}
	if got, want := string(readAvail(t, r)), "head-a|FILE-ONE|head-b|FILE-TWO|abort-a"; got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	if a.done != 3 || b.done != 2 || q.busy() {
		t.Fatalf("done a=%d b=%d busy=%v; want 3, 2, false", a.done, b.done, q.busy())
	}
}

// TestSegQueueStallResumeDrop: a full socket stalls the queue mid-file
// without telling the owner; the rest follows once the peer reads; what
// is dropped unwritten is told too.
func TestSegQueueStallResumeDrop(t *testing.T) {
	w, r := socketPair(t)
	unix.SetsockoptInt(w, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	f := tempFile(t, big)
	o := &countOwner{}
	var q segQueue
	q.pushMem([]byte("H"), o)
	q.pushFile(f, 0, int64(len(big)), o)
	q.pushMem([]byte("T"), o)
	res, _ := q.write(w)
	if res != pumpStalled {
		t.Fatalf("1 MiB into a 4 KiB socket buffer: %v, want stalled", res)
	}
	if o.done != 1 {
		t.Fatalf("owner told %d times while its file is half written", o.done)
	}
	var got []byte
	for i := 0; i < 10000 && q.busy(); i++ {
		got = append(got, readAvail(t, r)...)
		if res, err := q.write(w); res == pumpFailed {
			t.Fatal(err)
		}
	}
	got = append(got, readAvail(t, r)...)
	if want := "H" + string(big) + "T"; string(got) != want {
		t.Fatalf("got %d bytes, want %d, or different", len(got), len(want))
	}
	if o.done != 3 {
		t.Fatalf("done %d, want 3", o.done)
	}

	q.pushMem([]byte("x"), o)
	q.pushFile(f, 0, 4, o)
	q.drop()
	if o.done != 5 || q.busy() {
		t.Fatalf("after drop: done %d busy %v", o.done, q.busy())
	}
}

// TestSegQueueShortFile: a file range longer than the file fails the
// write instead of spinning.
func TestSegQueueShortFile(t *testing.T) {
	w, _ := socketPair(t)
	f := tempFile(t, []byte("abc"))
	var q segQueue
	q.pushFile(f, 0, 10, nil)
	if res, err := q.write(w); res != pumpFailed || err != errShortFile {
		t.Fatalf("got %v %v, want failed, errShortFile", res, err)
	}
}
