package cgiexec

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/gale-http/gale/upstream/fastcgi"
)

// maxHead bounds the request head read from the engine: the CGI variables
// of a request within any sane header limit.
const maxHead = 4 << 20

// errShort is splitNetstring's answer for a netstring not yet whole.
var errShort = errors.New("netstring not whole yet")

// splitNetstring splits b, the bytes read so far from the engine, into the
// request head (the netstring's content) and what follows it (the start
// of the body). errShort means more bytes are needed; any other error is
// a malformed head.
func splitNetstring(b []byte) (head, rest []byte, err error) {
	n, digits := 0, 0
	for ; ; digits++ {
		if digits == len(b) {
			return nil, nil, errShort
		}
		c := b[digits]
		if c == ':' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || digits == 8 {
			return nil, nil, fmt.Errorf("bad netstring length")
		}
		n = n*10 + int(c-'0')
	}
	if n > maxHead {
		return nil, nil, fmt.Errorf("request head of %d bytes", n)
	}
	start := digits + 1
	if len(b) < start+n+1 {
		return nil, nil, errShort
	}
	if b[start+n] != ',' {
		return nil, nil, fmt.Errorf("netstring not ended by a comma")
	}
	return b[start : start+n], b[start+n+1:], nil
}

// request is what a script is run with.
type request struct {
	script string
	env    []string
	length int64
}

// parseHead turns the FastCGI pairs of head into the script's request: its
// environment as NAME=value strings, all views of one string, with PATH
// added unless configured. A variable whose name or value holds a NUL,
// or whose name holds '=', is dropped: exec would refuse it, and a NUL
// must not cut one variable into two.
func parseHead(head []byte) (*request, error) {
	req := &request{length: -1}
	buf := make([]byte, 0, len(head)+len("PATH=")+len(DefaultPath))
	ends := make([]int, 0, 32)
	hasPath := false
	err := fastcgi.ParsePairs(head, func(name, value []byte) error {
		if len(name) == 0 || bytes.ContainsAny(name, "=\x00") || bytes.IndexByte(value, 0) >= 0 {
			return nil
		}
		switch string(name) {
		case "SCRIPT_FILENAME":
			req.script = string(value)
		case "CONTENT_LENGTH":
			if len(value) > 0 {
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 {
					return fmt.Errorf("bad CONTENT_LENGTH %q", value)
				}
				req.length = n
			}
		case "PATH":
			hasPath = true
		}
		buf = append(append(append(buf, name...), '='), value...)
		ends = append(ends, len(buf))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !hasPath {
		buf = append(buf, "PATH="+DefaultPath...)
		ends = append(ends, len(buf))
	}
	if !filepath.IsAbs(req.script) {
		return nil, fmt.Errorf("no absolute SCRIPT_FILENAME (%q)", req.script)
	}
	all := string(buf)
	req.env = make([]string, len(ends))
	start := 0
	for i, e := range ends {
		req.env[i] = all[start:e]
		start = e
	}
	return req, nil
}
