package httpcodec

import "testing"

// The traversal corpus: what each raw path normalizes to, or the error.
var normalizeCases = []struct {
	rule string
	raw  string
	want string
	err  error
}{
	{"identity", "/", "/", nil},
	{"identity", "/static/app.css", "/static/app.css", nil},
	{"trailing slash kept", "/a/b/", "/a/b/", nil},
	{"RFC 3986 5.2.4: '.' removed", "/a/./b", "/a/b", nil},
	{"RFC 3986 5.2.4: trailing '.' leaves the slash", "/a/.", "/a/", nil},
	{"RFC 3986 5.2.4: '..' pops a segment", "/a/b/../c", "/a/c", nil},
	{"RFC 3986 5.2.4: trailing '..'", "/a/b/..", "/a/", nil},
	{"RFC 3986 5.2.4: '..' back to the root", "/a/..", "/", nil},
	{"'...' is a name", "/.../x", "/.../x", nil},
	{"'.hidden' is a name", "/.well-known/x", "/.well-known/x", nil},
	{"'//' collapsed", "//x", "/x", nil},
	{"'//' collapsed", "/a//b///c//", "/a/b/c/", nil},
	{"percent-decoding", "/%7Euser/%41%62", "/~user/Ab", nil},
	{"%2e%2e is '..'", "/a/b/%2e%2E/c", "/a/c", nil},
	{"%2e is '.'", "/a/%2e/b", "/a/b", nil},
	{"mixed '.%2e' is '..'", "/a/b/.%2e/c", "/a/c", nil},
	{"decoded once: %252e is the name '%2e'", "/a/%252e%252e/b", "/a/%2e%2e/b", nil},
	{"overlong UTF-8 dot stays two bytes", "/a/%c0%ae%c0%ae/b", "/a/\xc0\xae\xc0\xae/b", nil},
	{"backslash is a literal byte", "/a\\..\\..\\etc/passwd", "/a\\..\\..\\etc/passwd", nil},
	{"backslash segment '..\\' is a name", "/..\\x", "/..\\x", nil},

	{"above root", "/..", "", ErrPathAboveRoot},
	{"above root", "/../etc/passwd", "", ErrPathAboveRoot},
	{"above root after a pop", "/a/../..", "", ErrPathAboveRoot},
	{"above root, encoded", "/%2e%2e/x", "", ErrPathAboveRoot},
	{"above root through '//'", "//..//x", "", ErrPathAboveRoot},
	{"encoded slash", "/a%2Fb", "", ErrPath},
	{"encoded slash, lower case", "/a%2fb", "", ErrPath},
	{"encoded NUL", "/a%00b", "", ErrPath},
	{"raw NUL", "/a\x00b", "", ErrPath},
	{"truncated escape", "/a%2", "", ErrPath},
	{"bad escape", "/a%g0", "", ErrPath},
	{"not absolute", "a/b", "", ErrPath},
	{"empty", "", "", ErrPath},
}

func TestNormalizePath(t *testing.T) {
	for _, c := range normalizeCases {
		got, err := NormalizePath([]byte("keep"), []byte(c.raw))
		if err != c.err {
			t.Errorf("%s: %q: err %v, want %v", c.rule, c.raw, err, c.err)
			continue
		}
		want := "keep" + c.want
		if string(got) != want {
			t.Errorf("%s: %q -> %q, want %q", c.rule, c.raw, got, want)
		}
	}
}

// The parser's fast path (no copy work beyond the bytes) and NormalizePath
// agree on every clean path.
func TestPathIsClean(t *testing.T) {
	for _, c := range normalizeCases {
		if c.err != nil || !pathIsClean([]byte(c.raw)) {
			continue
		}
		if c.want != c.raw {
			t.Errorf("%q is called clean but normalizes to %q", c.raw, c.want)
		}
	}
}
