package handlers

import (
	"strconv"
	"sync"
	"time"

	"github.com/gale-http/gale/httpcodec"
)

// Read-while-writer: a fetch's waiters are written its response as it
// arrives, not after its end. From the head on (once the response is
// known to be stored), the fill keeps the body as a list of immutable
// chunks; a waiter's loop reads the chunks it has not written yet under
// the stream's lock and writes them after, as views: the leader only ever
// appends new chunks, never changes one. The same chunks then make the
// entry.

// StreamState is where a fill's stream is, for its waiters.
type StreamState uint8

const (
	// StreamWaiting: no head yet (or the response is not stored, and the
	// waiters are released to go to the application themselves).
	StreamWaiting StreamState = iota
	// StreamOpen: the head and some of the body can be written.
	StreamOpen
	// StreamDone: the whole response is there.
	StreamDone
	// StreamCut: the response ended short or outgrew the object limit:
	// a waiter that wrote its head must cut its connection.
	StreamCut
)

// fillStream is the part of a fill its waiters read.
type fillStream struct {
	mu      sync.Mutex
	state   StreamState
	head    []byte // status line and fields for a waiter, framing included
	status  int
	chunked bool
	chunks  [][]byte
	size    int64 // bytes in chunks (the leader reads it without the lock)
}

// openStream builds the waiters' head: the stored head, Age, a
// Cache-Status saying they were collapsed, and the framing the length
// allows (chunked when unknown).
func (f *CacheFill) openStream(length int64) {
	in := &f.info
	h := append([]byte(nil), in.statusLine...)
	h = append(h, httpcodec.ServerHeader...)
	h = append(h, in.fields...)
	h = append(h, "Age: "...)
	h = strconv.AppendInt(h, in.meta.initAge/int64(time.Second), 10)
	h = append(h, "\r\nCache-Status: "+statusCollapsed+"\r\n"...)
	chunked := length < 0 && f.status != 204
	switch {
	case f.status == 204:
	case chunked:
		h = append(h, "Transfer-Encoding: chunked\r\n"...)
	default:
		h = httpcodec.AppendContentLength(h, length)
	}
	s := &f.stream
	s.mu.Lock()
	s.head, s.status, s.chunked, s.state = h, f.status, chunked, StreamOpen
	s.mu.Unlock()
	f.notify()
}

// addChunk appends a copy of p to the stream.
func (f *CacheFill) addChunk(p []byte) {
	c := append([]byte(nil), p...)
	s := &f.stream
	s.mu.Lock()
	s.chunks = append(s.chunks, c)
	s.size += int64(len(c))
	s.mu.Unlock()
	f.notify()
}

// endStream ends the stream; its waiters learn it from CacheReady.
func (f *CacheFill) endStream(st StreamState) {
	s := &f.stream
	s.mu.Lock()
	if s.state == StreamOpen {
		s.state = st
	}
	s.mu.Unlock()
}

// notify tells the waiters that more can be read.
func (f *CacheFill) notify() {
	if !f.registered {
		return
	}
	c := f.p.Cache
	c.mu.Lock()
	f.wbuf = append(f.wbuf[:0], f.waiters...)
	c.mu.Unlock()
	for _, w := range f.wbuf {
		w.CacheStream(f)
	}
	clear(f.wbuf)
}

// StreamView is what a waiter can write now (CacheFill.Stream).
type StreamView struct {
	Head    []byte // status line and fields, framing included; nil before the head
	Status  int
	Chunked bool // the body goes chunked (its length is not known)
	Chunks  [][]byte
	State   StreamState
}

// Stream returns what a waiter that has written from chunks so far can
// write now. The views stay valid: chunks are never changed.
func (f *CacheFill) Stream(from int) StreamView {
	s := &f.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	from = min(from, len(s.chunks))
	return StreamView{Head: s.head, Status: s.status, Chunked: s.chunked, Chunks: s.chunks[from:len(s.chunks):len(s.chunks)], State: s.state}
}
