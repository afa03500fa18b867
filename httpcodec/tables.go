package httpcodec

// Byte-class tables, written once at init from the RFC grammars so that the
// scanning loops cost one load per byte.
var (
	// tchar: token characters (RFC 9110 section 5.6.2), used for methods,
	// field names and transfer-coding names.
	tchar = classTable(alnum + "!#$%&'*+-.^_`|~")

	// fieldVChar: bytes allowed in a field value besides HTAB (RFC 9110
	// section 5.5: VCHAR, obs-text, and SP between them). HTAB is left out so
	// the word-at-a-time scan can treat it as a rare byte to look at twice.
	fieldVChar = func() (t [256]bool) {
		for c := 0x20; c < 0x100; c++ {
			t[c] = c != 0x7f
		}
		return t
	}()

	// targetChar: bytes accepted in a request-target: VCHAR except '#'.
	// RFC 3986 allows fewer (no '"', '<', '>', '\', '^', '`', '{', '|', '}'),
	// but browsers send {}|^`\ unencoded in queries (the WHATWG query
	// percent-encode set leaves them raw), so gale accepts every visible
	// ASCII byte; controls, DEL, SP inside, non-ASCII bytes and a fragment
	// are rejected (RFC 9112 section 3.2: SHOULD 400).
	targetChar = func() (t [256]bool) {
		for c := 0x21; c < 0x7f; c++ {
			t[c] = c != '#'
		}
		return t
	}()

	// regNameChar: unreserved and sub-delims (RFC 3986 section 3.2.2); '%'
	// (pct-encoded) is checked apart.
	regNameChar = classTable(alnum + "-._~" + "!$&'()*+,;=")

	// hexVal maps a HEXDIG to its value and anything else to -1.
	hexVal = func() (t [256]int8) {
		for c := range t {
			switch {
			case c >= '0' && c <= '9':
				t[c] = int8(c - '0')
			case c >= 'a' && c <= 'f':
				t[c] = int8(c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				t[c] = int8(c - 'A' + 10)
			default:
				t[c] = -1
			}
		}
		return t
	}()

	// lower folds ASCII upper case letters and leaves every other byte.
	lower = func() (t [256]byte) {
		for c := range t {
			t[c] = byte(c)
			if c >= 'A' && c <= 'Z' {
				t[c] = byte(c) + 'a' - 'A'
			}
		}
		return t
	}()
)

const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func classTable(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

// Word-at-a-time helpers (the "haszero"/"hasless" bit tricks): eight bytes
// are checked with a few ALU operations instead of eight table loads.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// ctlMask flags (with its high bit) each byte of x, a little-endian load,
// that is below 0x20 or equals 0x7f: the bytes that end or invalidate a
// field value. Bytes >= 0x80 are never flagged. A borrow can flag a byte
// above a real hit, never below one, so the lowest flag is exact and zero
// means none.
func ctlMask(x uint64) uint64 {
	lt := (x - ones*0x20) &^ x
	d := x ^ (ones * 0x7f)
	del := (d - ones) &^ d
	return (lt | del) & highs
}

// eqFoldLower reports whether b equals s ignoring ASCII case; s must be lower
// case letters, digits and '-' only, so OR-ing 0x20 into b's bytes folds
// exactly for every tchar.
func eqFoldLower[T string | []byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// EqualFold reports whether a and b are equal ignoring ASCII case (header
// names, tokens), without allocating.
func EqualFold[T string | []byte](a []byte, b T) bool { return eqFold(a, b) }

// eqFold reports whether a and b are equal ignoring ASCII case.
func eqFold[T string | []byte](a []byte, b T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower[a[i]] != lower[b[i]] {
			return false
		}
	}
	return true
}

// ValidFieldName reports whether s is a field name (RFC 9110 section 5.1:
// a token), by the table the parser checks received names with.
func ValidFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return s != ""
}

// ValidFieldValue reports whether s is a field value as the parser accepts
// one (RFC 9110 section 5.5): VCHAR, obs-text, SP and HTAB, with no
// leading or trailing whitespace; never CR, LF or NUL.
func ValidFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !fieldVChar[c] && c != '\t' {
			return false
		}
	}
	return len(s) == 0 || s[0] != ' ' && s[0] != '\t' && s[len(s)-1] != ' ' && s[len(s)-1] != '\t'
}
