package reactor

import "testing"

func TestHostWithoutPort(t *testing.T) {
	for in, want := range map[string]string{
		"example.com": "example.com", "example.com:8080": "example.com", "[::1]:8080": "[::1]",
		"[::1]": "[::1]", "127.0.0.1:80": "127.0.0.1", "": "",
	} {
		if got := string(hostWithoutPort([]byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestAppendOriginForm(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/a?b": "/a?b", "http://h:8080/a/b": "/a/b", "https://h?q=1": "/?q=1", "http://h": "/",
		"HTTP://H/x": "/x",
	} {
		if got := string(appendOriginForm(nil, []byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
