package fastcgi

import (
	"encoding/binary"

	"github.com/gale-http/gale/upstream/cgi"
)

// AppendPair appends one name-value pair: each length is one byte when it
// is below 128, else four bytes with the top bit set (spec section 3.4).
func AppendPair(dst, name, value []byte) []byte { return cgi.AppendPair(dst, cgi.FastCGI, name, value) }

// readPairLen reads one pair length from b; ok is false if b is too short.
func readPairLen(b []byte) (n, size int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 128 {
		return int(b[0]), 1, true
	}
	if len(b) < 4 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint32(b) &^ (1 << 31)), 4, true
}

// ParsePairs decodes a complete name-value pair stream and calls fn for
// each pair; name and value are views into buf. A length running past the
// end of buf, or a truncated length, yields a *ProtocolError wrapping
// ErrPairs. An error from fn stops the walk and is returned as is.
func ParsePairs(buf []byte, fn func(name, value []byte) error) error {
	for len(buf) > 0 {
		nlen, s1, ok1 := readPairLen(buf)
		if !ok1 {
			return protoErr(ErrPairs, 0, 0)
		}
		vlen, s2, ok2 := readPairLen(buf[s1:])
		if !ok2 {
			return protoErr(ErrPairs, 0, 0)
		}
		buf = buf[s1+s2:]
		// Compare in int: both lengths are < 2^31, so the sum cannot overflow.
		if nlen+vlen > len(buf) {
			return protoErr(ErrPairs, 0, 0)
		}
		if err := fn(buf[:nlen:nlen], buf[nlen:nlen+vlen:nlen+vlen]); err != nil {
			return err
		}
		buf = buf[nlen+vlen:]
	}
	return nil
}

// Names of the variables an application reports in FCGI_GET_VALUES_RESULT.
const (
	ValueMaxConns  = "FCGI_MAX_CONNS"
	ValueMaxReqs   = "FCGI_MAX_REQS"
	ValueMpxsConns = "FCGI_MPXS_CONNS"
)

// AppendGetValues appends an FCGI_GET_VALUES record asking for names (each
// with an empty value). Names must total at most MaxContent encoded bytes;
// the three Value* names need 48.
func AppendGetValues(dst []byte, names ...string) []byte {
	mark := len(dst)
	dst = AppendHeader(dst, TypeGetValues, 0, 0, 0)
	for _, n := range names {
		dst = cgi.AppendPair(dst, cgi.FastCGI, []byte(n), nil)
	}
	return patchLength(dst, mark)
}

// patchLength writes the content length of the record whose header starts
// at mark, its content running to the end of dst.
func patchLength(dst []byte, mark int) []byte {
	binary.BigEndian.PutUint16(dst[mark+4:], uint16(len(dst)-mark-HeaderLen))
	return dst
}

// Values is what an application reported in FCGI_GET_VALUES_RESULT.
// Zero counts mean "not reported".
type Values struct {
	MaxConns  int
	MaxReqs   int
	MpxsConns bool
	// Known is true once a result (or an FCGI_UNKNOWN_TYPE for the query)
	// has arrived; until then nothing has been negotiated.
	Known bool
}

// ParseValues decodes the content of an FCGI_GET_VALUES_RESULT record.
// Unknown names are ignored; a known name with a value that is not a
// decimal number is a violation.
func ParseValues(content []byte) (Values, error) {
	v := Values{Known: true}
	err := ParsePairs(content, func(name, value []byte) error {
		var dst *int
		switch string(name) {
		case ValueMaxConns:
			dst = &v.MaxConns
		case ValueMaxReqs:
			dst = &v.MaxReqs
		case ValueMpxsConns:
			var n int
			if !parseSmallUint(value, &n) {
				return protoErr(ErrValues, TypeGetValuesResult, 0)
			}
			v.MpxsConns = n != 0
			return nil
		default:
			return nil
		}
		if !parseSmallUint(value, dst) {
			return protoErr(ErrValues, TypeGetValuesResult, 0)
		}
		return nil
	})
	if err != nil {
		return Values{}, err
	}
	return v, nil
}

// parseSmallUint parses a decimal of at most 9 digits into *n.
func parseSmallUint(b []byte, n *int) bool {
	if len(b) == 0 || len(b) > 9 {
		return false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + int(c-'0')
	}
	*n = v
	return true
}
