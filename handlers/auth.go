package handlers

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/gale-http/gale/httpcodec"
)

// BasicAuth is HTTP basic authentication against an htpasswd file of
// bcrypt hashes (nginx auth_basic + auth_basic_user_file, Apache's
// htpasswd -B). It is loaded once; a reload loads it again.
type BasicAuth struct {
	users     map[string][]byte // user -> bcrypt hash
	challenge string            // the WWW-Authenticate line
	ok        authCache
}

// LoadBasicAuth reads an htpasswd file ("user:$2y$..." lines; # comments
// and blank lines skipped). Only bcrypt hashes are accepted: the others
// htpasswd writes (MD5-crypt, SHA-1, crypt) are broken or unsalted.
func LoadBasicAuth(realm, file string) (*BasicAuth, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a := &BasicAuth{users: map[string][]byte{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%s:%d: want user:hash", file, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%s:%d: user %q: not a bcrypt hash (make one with htpasswd -B): %v", file, n, user, err)
		}
		a.users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(a.users) == 0 {
		return nil, fmt.Errorf("%s: no users", file)
	}
	if strings.ContainsAny(realm, "\"\\\r\n") {
		return nil, fmt.Errorf("realm %q: no quotes, backslashes or line breaks", realm)
	}
	a.challenge = "WWW-Authenticate: Basic realm=\"" + realm + "\", charset=\"UTF-8\"\r\n"
	return a, nil
}

// maxCredential bounds a decoded user:password pair; longer is refused
// without a bcrypt (bcrypt reads 72 bytes of the password anyway).
const maxCredential = 256

// Check reports whether the request carries a user's valid password.
// bcrypt is slow on purpose (tens of milliseconds at cost 10), and it runs
// on the event loop as nginx runs it on its worker: a successful check is
// remembered (authCache) so a signed-in client pays it once, not per
// request; a wrong password pays it every time (pair it with limit_req).
func (a *BasicAuth) Check(req *httpcodec.Request) bool {
	v := req.Lookup("Authorization")
	if len(v) < 6 || !httpcodec.EqualFold(v[:6], "Basic ") {
		return false
	}
	enc := bytes.TrimSpace(v[6:])
	var buf [maxCredential]byte
	if base64.StdEncoding.DecodedLen(len(enc)) > len(buf) {
		return false
	}
	n, err := base64.StdEncoding.Decode(buf[:], enc)
	if err != nil {
		return false
	}
	cred := buf[:n]
	colon := bytes.IndexByte(cred, ':')
	if colon < 0 {
		return false
	}
	hash, ok := a.users[string(cred[:colon])]
	if !ok {
		return false
	}
	key := sha256.Sum256(cred)
	if a.ok.has(key) {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, cred[colon+1:]) != nil {
		return false
	}
	a.ok.add(key)
	return true
}

// refuse answers 401 with the challenge.
func (a *BasicAuth) refuse(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	errorResponse(ctx, resp, 401, a.challenge, req.Method != httpcodec.MethodHead)
}

// maxAuthCache bounds the remembered credentials of one BasicAuth.
const maxAuthCache = 1024

// authCache remembers the SHA-256 of credentials bcrypt accepted (never
// the passwords). When full it is emptied: the next clients pay one
// bcrypt each again.
type authCache struct {
	mu   sync.RWMutex
	seen map[[32]byte]struct{}
}

func (c *authCache) has(k [32]byte) bool {
	c.mu.RLock()
	_, ok := c.seen[k]
	c.mu.RUnlock()
	return ok
}

func (c *authCache) add(k [32]byte) {
	c.mu.Lock()
	if c.seen == nil || len(c.seen) >= maxAuthCache {
		c.seen = make(map[[32]byte]struct{})
	}
	c.seen[k] = struct{}{}
	c.mu.Unlock()
}
