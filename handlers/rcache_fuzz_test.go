package handlers

import (
	"testing"
	"time"
)

// FuzzRespCacheHead: whatever head an application sends, reading it for
// the cache neither panics nor hangs, and a stored entry is one whose
// freshness is not negative.
func FuzzRespCacheHead(f *testing.F) {
	for _, s := range []string{
		"Cache-Control: max-age=60\r\n",
		"Cache-Control: max-age=\"60\", s-maxage=1, no-cache=\"Set-Cookie\"\r\nAge: 7200, 0\r\n",
		"CDN-Cache-Control: max-age=10000, &&&&&\r\nCache-Control: no-store\r\n",
		"Expires: 0\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: W/\"x\"\r\n",
		"Vary: Accept-Language, *\r\n",
		"Cache-Control: ,,=,max-age\r\nCDN-Cache-Control: =\r\nSurrogate-Key: a b\r\n",
	} {
		f.Add(200, s)
	}
	f.Fuzz(func(t *testing.T, status int, fields string) {
		p := &CachePolicy{TTL: time.Second, TagHeader: "Surrogate-Key", CDNCacheControl: true}
		var in respInfo
		now := time.Now().UnixNano()
		head := "HTTP/1.1 200 OK\r\n" + fields
		if p.analyze(&in, []byte(head), nil, status, false, now, now) && (in.meta.lifetime < 0 || in.meta.initAge < 0) {
			t.Fatalf("stored with lifetime %d, initial age %d", in.meta.lifetime, in.meta.initAge)
		}
		validCDNCacheControl([]byte(fields))
		d := newCC()
		d.add([]byte(fields))
	})
}
