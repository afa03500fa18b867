package reactor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gale-http/gale/httpcodec"
)

// AccessFormat is the access log's line format.
type AccessFormat uint8

const (
	// AccessCombined is nginx's "combined" format followed by the request
	// time, the upstream address and the upstream response time:
	//
	//	$remote_addr - - [$time_local] "$request" $status $body_bytes_sent
	//	"$http_referer" "$http_user_agent" $request_time "$upstream_addr" $upstream_response_time
	//
	// Times are in seconds with millisecond resolution; "-" when there
	// was no upstream. A location with a response cache adds its
	// Cache-Status, quoted ("gale; hit").
	AccessCombined AccessFormat = iota
	// AccessJSON is one JSON object per line with the same fields.
	AccessJSON
)

// ParseAccessFormat parses "combined" or "json".
func ParseAccessFormat(s string) (AccessFormat, error) {
	switch s {
	case "combined", "":
		return AccessCombined, nil
	case "json":
		return AccessJSON, nil
	}
	return 0, fmt.Errorf("access log format %q: want combined or json", s)
}

// accessBufSize is each loop's access log buffer: a flush is one write(2)
// of whole lines, on the tick or when the buffer is full.
const accessBufSize = 64 << 10

// maxAccessField bounds each field of a line: fields are truncated so (a huge
// User-Agent must not make a line larger than the buffer).
const maxAccessField = 2048

// pipeBuf is the size up to which a write to a pipe is atomic: writes to
// stdout are cut at line ends within it so that loops never interleave
// inside a line.
const pipeBuf = 4096

// AccessLog is where the access log goes: a file opened with O_APPEND, or
// stdout. Each loop buffers its lines and writes whole lines; the file is
// shared only through these writes, so loops never wait for each other.
type AccessLog struct {
	// Format is the line format.
	Format AccessFormat

	path string
	mu   sync.Mutex // guards f and pipe: a reopen swaps them under running loops
	f    *os.File
	pipe bool // not a regular file: writes are cut to pipeBuf
}

// OpenAccessLog opens path for appending ("-" or "stdout": standard
// output).
func OpenAccessLog(path string, format AccessFormat) (*AccessLog, error) {
	a := &AccessLog{Format: format, path: path}
	f, pipe, err := a.open()
	if err != nil {
		return nil, err
	}
	a.f, a.pipe = f, pipe
	return a, nil
}

func (a *AccessLog) open() (*os.File, bool, error) {
	if a.path == "-" || a.path == "stdout" {
		return os.Stdout, true, nil
	}
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("access log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("access log: %w", err)
	}
	return f, !st.Mode().IsRegular(), nil
}

// file is the current file and whether it is a pipe; each loop keeps its
// own copy of both (loop.alFile, loop.alPipe).
func (a *AccessLog) file() (*os.File, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f, a.pipe
}

// Close closes the file (not stdout). Call it after the server stopped.
func (a *AccessLog) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil || a.f == os.Stdout {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// ReopenAccessLog reopens the access log file (SIGUSR1, after logrotate
// moved it): every loop flushes what it buffered to the old file, then
// switches to the new one, on its own goroutine; the old file is closed
// once no loop uses it.
func (s *Server) ReopenAccessLog() error {
	a := s.cfg.AccessLog
	if a == nil {
		return nil
	}
	nf, pipe, err := a.open()
	if err != nil {
		return err
	}
	a.mu.Lock()
	old := a.f
	a.f, a.pipe = nf, pipe
	a.mu.Unlock()
	s.onLoops(func(l *loop) int {
		l.flushAccess()
		l.alFile, l.alPipe = nf, pipe
		return 0
	})
	if old != nil && old != os.Stdout && old != nf {
		// A loop created during the swap may still hold old: its next
		// write fails with os.ErrClosed and it takes the new file then.
		old.Close()
	}
	return nil
}

// FlushAccessLog writes out what every loop buffered.
func (s *Server) FlushAccessLog() {
	if s.cfg.AccessLog == nil {
		return
	}
	select {
	case <-s.booted:
	default:
		return
	}
	s.onLoops(func(l *loop) int { l.flushAccess(); return 0 })
}

// flushStopped writes the lines logged after the last flush, once the
// loops have stopped (connections closed during the stop): no loop runs, so
// their buffers are read from here.
func (s *Server) flushStopped() {
	if s.cfg.AccessLog == nil {
		return
	}
	s.loops.Range(func(_, v any) bool {
		v.(*loop).flushAccess()
		return true
	})
}

// flushAccess writes the loop's buffered lines, whole lines per write.
func (l *loop) flushAccess() {
	b := l.alBuf
	if len(b) == 0 {
		return
	}
	l.alBuf = b[:0]
	if l.alFile == nil {
		l.alFile, l.alPipe = l.s.cfg.AccessLog.file()
	}
	for len(b) > 0 {
		n := len(b)
		if l.alPipe && n > pipeBuf {
			n = lastLineEnd(b[:pipeBuf])
		}
		_, err := l.alFile.Write(b[:n])
		if errors.Is(err, os.ErrClosed) {
			l.alFile, l.alPipe = l.s.cfg.AccessLog.file()
			if l.alFile == nil {
				return
			}
			_, err = l.alFile.Write(b[:n])
		}
		if err != nil {
			l.s.cfg.Logger.Error("access log write", "err", err, "lost_bytes", len(b))
			return
		}
		b = b[n:]
	}
}

// lastLineEnd is the length of b up to its last newline (all of b if it
// has none: a single line longer than pipeBuf).
func lastLineEnd(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i + 1
		}
	}
	return len(b)
}

// reqInfo is what an access log line says about the request, copied out
// of the inbound buffer (a FastCGI response ends long after that buffer
// moved on). Its storage is reused: no allocation per request.
type reqInfo struct {
	buf   []byte
	end   [numInfo]int
	start time.Time // first byte read (approximately: the batch's start)
}

const (
	infoRemote = iota
	infoMethod
	infoTarget
	infoProto
	infoReferer
	infoUA
	infoHost
	numInfo
)

func (ri *reqInfo) field(i int) []byte {
	s := 0
	if i > 0 {
		s = ri.end[i-1]
	}
	return ri.buf[s:ri.end[i]]
}

func (ri *reqInfo) add(i int, p []byte) {
	if len(p) > maxAccessField {
		p = p[:maxAccessField]
	}
	ri.buf = append(ri.buf, p...)
	ri.end[i] = len(ri.buf)
}

// fill copies the request's loggable fields; req may be nil (a request
// that did not parse).
func (ri *reqInfo) fill(cs *conn, req *httpcodec.Request, start time.Time) {
	ri.buf = ri.buf[:0]
	ri.start = start
	b := ri.buf
	if cs != nil && !cs.gone {
		client := cs.client
		if !client.IsValid() {
			client = cs.peer // an error before the request parsed
		}
		if client.IsValid() {
			b = client.Addr().AppendTo(b)
		}
	}
	ri.buf = b
	ri.end[infoRemote] = len(b)
	if req == nil {
		for i := infoMethod; i < numInfo; i++ {
			ri.end[i] = len(ri.buf)
		}
		return
	}
	ri.add(infoMethod, req.MethodName)
	ri.add(infoTarget, req.RawTarget)
	if req.Minor == 0 {
		ri.add(infoProto, proto10)
	} else {
		ri.add(infoProto, proto11)
	}
	ri.add(infoReferer, req.Lookup("Referer"))
	ri.add(infoUA, req.Get(httpcodec.HdrUserAgent))
	ri.add(infoHost, req.Host)
}

// logTimes caches the formatted time of the current second.
type logTimes struct {
	sec      int64
	combined []byte // 02/Jan/2006:15:04:05 -0700
	rfc3339  []byte
}

func (lt *logTimes) update(now time.Time) {
	if s := now.Unix(); s != lt.sec || lt.combined == nil {
		lt.sec = s
		lt.combined = now.AppendFormat(lt.combined[:0], "02/Jan/2006:15:04:05 -0700")
		lt.rfc3339 = now.AppendFormat(lt.rfc3339[:0], time.RFC3339)
	}
}

// accessDone is what is known when the response ended.
type accessDone struct {
	status int
	bytes  int64     // body bytes sent
	end    time.Time // when the response was complete
	upAddr string    // "" without an upstream
	upTime time.Duration
	cache  string // the response cache's Cache-Status ("" when not cached)
}

// logAccess appends one line for ri and d to the loop's buffer.
func (l *loop) logAccess(ri *reqInfo, d *accessDone) {
	if len(l.alBuf) > accessBufSize-6*maxAccessField-512 {
		l.flushAccess()
	}
	if cap(l.alBuf) == 0 {
		l.alBuf = make([]byte, 0, accessBufSize)
	}
	l.alTimes.update(l.now)
	reqTime := d.end.Sub(ri.start)
	if ri.start.IsZero() || reqTime < 0 {
		reqTime = 0
	}
	b := l.alBuf
	if l.s.cfg.AccessLog.Format == AccessJSON {
		b = append(b, `{"time":"`...)
		b = append(b, l.alTimes.rfc3339...)
		b = append(b, `","remote_addr":`...)
		b = appendJSONString(b, ri.field(infoRemote))
		b = append(b, `,"method":`...)
		b = appendJSONString(b, ri.field(infoMethod))
		b = append(b, `,"uri":`...)
		b = appendJSONString(b, ri.field(infoTarget))
		b = append(b, `,"protocol":`...)
		b = appendJSONString(b, ri.field(infoProto))
		b = append(b, `,"host":`...)
		b = appendJSONString(b, ri.field(infoHost))
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(d.status), 10)
		b = append(b, `,"body_bytes_sent":`...)
		b = strconv.AppendInt(b, d.bytes, 10)
		b = append(b, `,"referer":`...)
		b = appendJSONString(b, ri.field(infoReferer))
		b = append(b, `,"user_agent":`...)
		b = appendJSONString(b, ri.field(infoUA))
		b = append(b, `,"request_time":`...)
		b = appendSeconds(b, reqTime)
		if d.upAddr != "" {
			b = append(b, `,"upstream_addr":`...)
			b = appendJSONString(b, []byte(d.upAddr))
			b = append(b, `,"upstream_response_time":`...)
			b = appendSeconds(b, d.upTime)
		}
		if d.cache != "" {
			b = append(b, `,"cache":`...)
			b = appendJSONString(b, []byte(d.cache))
		}
		b = append(b, "}\n"...)
	} else {
		b = appendDash(b, ri.field(infoRemote))
		b = append(b, " - - ["...)
		b = append(b, l.alTimes.combined...)
		b = append(b, `] "`...)
		if m := ri.field(infoMethod); len(m) > 0 {
			b = appendEscaped(b, m)
			b = append(b, ' ')
			b = appendEscaped(b, ri.field(infoTarget))
			b = append(b, ' ')
			b = append(b, ri.field(infoProto)...)
		} else {
			b = append(b, '-')
		}
		b = append(b, `" `...)
		b = strconv.AppendInt(b, int64(d.status), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, d.bytes, 10)
		b = append(b, ` "`...)
		b = appendEscapedDash(b, ri.field(infoReferer))
		b = append(b, `" "`...)
		b = appendEscapedDash(b, ri.field(infoUA))
		b = append(b, `" `...)
		b = appendSeconds(b, reqTime)
		if d.upAddr != "" {
			b = append(b, ` "`...)
			b = append(b, d.upAddr...)
			b = append(b, `" `...)
			b = appendSeconds(b, d.upTime)
		} else {
			b = append(b, ` "-" -`...)
		}
		if d.cache != "" {
			b = append(b, ` "`...)
			b = append(b, d.cache...)
			b = append(b, '"')
		}
		b = append(b, '\n')
	}
	l.alBuf = b
}

// appendSeconds formats d as seconds with milliseconds, as nginx does.
func appendSeconds(b []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	f := ms % 1000
	b = append(b, byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
	return b
}

func appendDash(b, p []byte) []byte {
	if len(p) == 0 {
		return append(b, '-')
	}
	return append(b, p...)
}

func appendEscapedDash(b, p []byte) []byte {
	if len(p) == 0 {
		return append(b, '-')
	}
	return appendEscaped(b, p)
}

const hexDigits = "0123456789ABCDEF"

// appendEscaped copies p, escaping '"', '\\' and bytes outside printable
// ASCII as \xHH (nginx's escape=default), so a client cannot forge lines.
func appendEscaped(b, p []byte) []byte {
	for _, c := range p {
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// appendJSONString appends p as a JSON string; invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(b, p []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, p[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
