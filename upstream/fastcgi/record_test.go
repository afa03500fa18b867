package fastcgi

import (
	"bytes"
	"errors"
	"testing"
)

// Exact wire bytes, in the manner of net/http/fcgi's fcgi_test.go.
func TestAppendRecordsWire(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, 66000)
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"begin keep-conn", AppendBeginRequest(nil, 1, RoleResponder, true),
			[]byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}},
		{"begin no keep-conn id 258", AppendBeginRequest(nil, 258, RoleResponder, false),
			[]byte{1, 1, 1, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}},
		{"abort", AppendAbort(nil, 7), []byte{1, 2, 0, 7, 0, 0, 0, 0}},
		{"stdin eof", AppendStdinEOF(nil, 1), []byte{1, 5, 0, 1, 0, 0, 0, 0}},
		{"stdin padded", AppendStdin(nil, 1, []byte("abc"), true),
			[]byte{1, 5, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0}},
		{"stdin unpadded", AppendStdin(nil, 1, []byte("abc"), false),
			[]byte{1, 5, 0, 1, 0, 3, 0, 0, 'a', 'b', 'c'}},
		{"stdin empty appends nothing", AppendStdin(nil, 1, nil, true), nil},
		{"end request", AppendEndRequest(nil, 3, 0x01020304, StatusOverloaded),
			[]byte{1, 3, 0, 3, 0, 8, 0, 0, 1, 2, 3, 4, 2, 0, 0, 0}},
		{"unknown type", AppendUnknownType(nil, 42), []byte{1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0}},
		{"get values", AppendGetValues(nil, "FCGI_MPXS_CONNS"),
			append([]byte{1, 9, 0, 0, 0, 17, 0, 0, 15, 0}, "FCGI_MPXS_CONNS"...)},
		{"params", AppendParams(nil, 1, []byte{1, 1, 'A', 'b'}),
			[]byte{1, 4, 0, 1, 0, 4, 0, 0, 1, 1, 'A', 'b', 1, 4, 0, 1, 0, 0, 0, 0}},
		// Go's streamTests "two records": 66000 bytes split at 65535.
		{"stdin split padded", AppendStdinEOF(AppendStdin(nil, 300, big, true), 300),
			bytes.Join([][]byte{
				{1, 5, 0x01, 0x2C, 0xFF, 0xFF, 1, 0}, big[:65535], {0},
				{1, 5, 0x01, 0x2C, 0x01, 0xD1, 7, 0}, big[:465], make([]byte, 7),
				{1, 5, 0x01, 0x2C, 0, 0, 0, 0},
			}, nil)},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, head(tt.got), head(tt.want))
		}
	}
}

// head shortens long byte slices in failure messages.
func head(b []byte) []byte { return b[:min(len(b), 64)] }

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Record
		n       int
		wantErr error
	}{
		{"empty", nil, Record{}, 0, ErrNeedMore},
		{"short header", []byte{1, 6, 0, 1}, Record{}, 0, ErrNeedMore},
		{"short content", []byte{1, 6, 0, 1, 0, 3, 0, 0, 'a', 'b'}, Record{}, 0, ErrNeedMore},
		{"short padding", []byte{1, 6, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0}, Record{}, 0, ErrNeedMore},
		{"bad version early", []byte{'H', 'T'}, Record{}, 0, ErrVersion},
		{"an HTTP status line", []byte("HTTP/1.1 400 Bad Request\r\n"), Record{}, 0, ErrSpeaksHTTP},
		{"the start of one", []byte("HT"), Record{}, 0, ErrSpeaksHTTP},
		{"not one", []byte("HX"), Record{}, 0, ErrVersion},
		{"version 2", []byte{2, 6, 0, 1, 0, 0, 0, 0}, Record{}, 0, ErrVersion},
		{"stdout", []byte{1, 6, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0, 99},
			Record{Header{1, 6, 1, 3, 5}, []byte("abc")}, 16, nil},
		{"empty record reserved byte set", []byte{1, 6, 0xAB, 0xCD, 0, 0, 0, 0xFF},
			Record{Header{1, 6, 0xABCD, 0, 0}, []byte{}}, 8, nil},
	}
	for _, tt := range tests {
		rec, n, err := ParseRecord(tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.wantErr)
			continue
		}
		if n != tt.n || rec.Header != tt.want.Header || !bytes.Equal(rec.Content, tt.want.Content) {
			t.Errorf("%s: got %+v n=%d, want %+v n=%d", tt.name, rec, n, tt.want, tt.n)
		}
	}
	if _, _, err := ParseRecord([]byte("HX")); errors.Is(err, ErrSpeaksHTTP) {
		t.Errorf("%q taken for an HTTP status line", "HX")
	}
}

func TestParseRecordMaxContent(t *testing.T) {
	in := AppendStdin(nil, 1, make([]byte, MaxContent), true)
	rec, n, err := ParseRecord(in)
	if err != nil || n != len(in) || len(rec.Content) != MaxContent || rec.PaddingLength != 1 {
		t.Fatalf("got len %d pad %d n %d err %v", len(rec.Content), rec.PaddingLength, n, err)
	}
	// Content is capped: appending to it must not overwrite the padding.
	if cap(rec.Content) != MaxContent {
		t.Fatalf("content cap %d", cap(rec.Content))
	}
}

// Go's sizeTests: pair lengths in the 1- and 4-byte forms.
func TestPairLengths(t *testing.T) {
	tests := []struct {
		size int
		enc  []byte
	}{
		{0, []byte{0x00}},
		{127, []byte{0x7F}},
		{128, []byte{0x80, 0x00, 0x00, 0x80}},
		{1000, []byte{0x80, 0x00, 0x03, 0xE8}},
		{33554431, []byte{0x81, 0xFF, 0xFF, 0xFF}},
	}
	for _, tt := range tests {
		if got := AppendPair(nil, make([]byte, tt.size), nil)[:len(tt.enc)]; !bytes.Equal(got, tt.enc) {
			t.Errorf("encode %d: % x, want % x", tt.size, got, tt.enc)
		}
		n, size, ok := readPairLen(tt.enc)
		if !ok || n != tt.size || size != len(tt.enc) {
			t.Errorf("decode % x: %d,%d,%v", tt.enc, n, size, ok)
		}
	}
}

func TestPairsRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte("v"), 300)
	var enc []byte
	enc = AppendPair(enc, []byte("A"), []byte("b"))
	enc = AppendPair(enc, []byte("EMPTY"), nil)
	enc = AppendPair(enc, long, long)
	want := []byte{1, 1, 'A', 'b', 5, 0, 'E', 'M', 'P', 'T', 'Y', 0x80, 0, 1, 0x2C, 0x80, 0, 1, 0x2C}
	if !bytes.Equal(enc[:len(want)], want) || len(enc) != len(want)+600 {
		t.Fatalf("encoding % x", head(enc))
	}
	var got [][2]string
	err := ParsePairs(enc, func(n, v []byte) error {
		got = append(got, [2]string{string(n), string(v)})
		return nil
	})
	if err != nil || len(got) != 3 || got[0] != [2]string{"A", "b"} || got[1] != [2]string{"EMPTY", ""} ||
		got[2] != [2]string{string(long), string(long)} {
		t.Fatalf("got %q err %v", got, err)
	}
	stop := errors.New("stop")
	if err := ParsePairs(enc, func(n, v []byte) error { return stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func TestParsePairsMalformed(t *testing.T) {
	for _, in := range [][]byte{
		{5},                         // name length, no value length
		{0x80, 0},                   // truncated 4-byte length
		{1, 0x80, 0, 0},             // truncated 4-byte value length
		{3, 1, 'a', 'b'},            // lengths past the end
		{0xFF, 0xFF, 0xFF, 0xFF, 0}, // 2^31-1 name length
		{1, 0xFF, 0xFF, 0xFF, 0xFF, 'a'},
	} {
		err := ParsePairs(in, func(n, v []byte) error { return nil })
		var pe *ProtocolError
		if !errors.Is(err, ErrPairs) || !errors.As(err, &pe) {
			t.Errorf("% x: err %v, want ErrPairs", in, err)
		}
	}
}

func TestParseValues(t *testing.T) {
	var c []byte
	c = AppendPair(c, []byte("FCGI_MAX_CONNS"), []byte("10"))
	c = AppendPair(c, []byte("FCGI_MAX_REQS"), []byte("50"))
	c = AppendPair(c, []byte("FCGI_MPXS_CONNS"), []byte("1"))
	c = AppendPair(c, []byte("X_OTHER"), []byte("whatever"))
	v, err := ParseValues(c)
	if err != nil || v != (Values{MaxConns: 10, MaxReqs: 50, MpxsConns: true, Known: true}) {
		t.Fatalf("got %+v %v", v, err)
	}
	for _, bad := range []string{"", "x", "-1", "1234567890"} {
		if _, err := ParseValues(AppendPair(nil, []byte("FCGI_MPXS_CONNS"), []byte(bad))); !errors.Is(err, ErrValues) {
			t.Errorf("MPXS %q: err %v", bad, err)
		}
	}
}
