package fastcgi

import (
	"bytes"
	"errors"
	"github.com/gale-http/gale/upstream/cgi"
	"testing"
)

func FuzzParseRecord(f *testing.F) {
	f.Add(AppendBeginRequest(nil, 1, RoleResponder, true))
	f.Add(AppendStdin(nil, 3, []byte("hello"), true))
	f.Add(AppendEndRequest(nil, 1, 0, 0))
	f.Add([]byte{1, 6, 0, 1, 0xFF, 0xFF, 0xFF, 0})
	f.Add([]byte("HTTP/1.1 200 OK\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, n, err := ParseRecord(b)
		if err != nil {
			if n != 0 || (err != ErrNeedMore && !errors.Is(err, ErrVersion)) {
				t.Fatalf("n=%d err=%v", n, err)
			}
			return
		}
		if n > len(b) || n != HeaderLen+len(rec.Content)+int(rec.PaddingLength) {
			t.Fatalf("n=%d len=%d", n, len(b))
		}
		// Header and content re-encode to the same bytes.
		re := AppendHeader(nil, rec.Type, rec.ID, len(rec.Content), rec.PaddingLength)
		re = append(re, rec.Content...)
		if !bytes.Equal(re[:7], b[:7]) || !bytes.Equal(re[8:], b[8:n-int(rec.PaddingLength)]) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzParsePairs(f *testing.F) {
	f.Add(AppendPair(AppendPair(nil, []byte("A"), []byte("b")), bytes.Repeat([]byte("n"), 200), nil))
	f.Add([]byte{0x80, 0, 0, 1, 0, 'x'})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0})
	f.Add(cgi.AppendEnv(nil, cgi.FastCGI, sampleInfo()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var pairs [][2][]byte
		err := ParsePairs(b, func(n, v []byte) error {
			pairs = append(pairs, [2][]byte{n, v})
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrPairs) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Re-encoding (in canonical length form) parses to the same pairs.
		var re []byte
		for _, p := range pairs {
			re = AppendPair(re, p[0], p[1])
		}
		i := 0
		if err := ParsePairs(re, func(n, v []byte) error {
			if !bytes.Equal(n, pairs[i][0]) || !bytes.Equal(v, pairs[i][1]) {
				t.Fatalf("pair %d differs", i)
			}
			i++
			return nil
		}); err != nil || i != len(pairs) {
			t.Fatalf("round trip: %v, %d of %d", err, i, len(pairs))
		}
	})
}

// FuzzConnFeed feeds arbitrary bytes to a Conn with two requests in flight,
// whole and in two parts at split: no panic, and the same outcome.
func FuzzConnFeed(f *testing.F) {
	var good []byte
	good = AppendStream(good, TypeGetValuesResult, 0, AppendPair(nil, []byte(ValueMpxsConns), []byte("1")), true)
	good = append(good, stdout(1, "Status: 200\r\n\r\nbody")...)
	good = AppendStream(good, TypeStderr, 2, []byte("err"), false)
	good = AppendEndRequest(good, 2, 0, 0)
	good = AppendEndRequest(good, 1, 0, 0)
	f.Add(good, 13)
	f.Add(AppendUnknownType(nil, TypeGetValues), 3)
	f.Add(stdout(9, "x"), 0)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		outcome := func(parts ...[]byte) string {
			c := NewConn(4)
			c.setValues(Values{Known: true, MpxsConns: true})
			var s1, s2 recSink
			c.Begin(&s1)
			c.Begin(&s2)
			var pending []byte
			for _, p := range parts {
				pending = append(pending, p...)
				n, err := c.Feed(pending)
				if n > len(pending) {
					t.Fatalf("consumed %d of %d", n, len(pending))
				}
				if err != nil {
					if !isProto(err) {
						t.Fatalf("unexpected error %v", err)
					}
					return "error: " + err.Error()
				}
				pending = pending[n:]
			}
			return s1.out.String() + "|" + s1.errs.String() + "|" + s2.out.String() + "|" +
				s2.errs.String() + "|" + string(rune(c.Active())) + string(pending)
		}
		if split < 0 || split > len(b) {
			split = len(b) / 2
		}
		whole, parted := outcome(b), outcome(b[:split], b[split:])
		if whole != parted {
			t.Fatalf("whole %q, split at %d %q", whole, split, parted)
		}
	})
}
