package fcgidemo

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
)

// maxBytes bounds /app/bytes.
const maxBytes = 1 << 30

// Bytes returns a reader of the stream /app/bytes serves: the same bytes
// for every request, so a client can check a download without keeping a
// copy (the memory-bound tests compare checksums).
func Bytes() io.Reader {
	return rand.NewChaCha8([32]byte{'g', 'a', 'l', 'e', '-', 'b', 'y', 't', 'e', 's'})
}

// prefix caches the stream's first bytes, so the application serves them
// at memory speed: the memory-bound tests want a backend faster than gale.
var prefix struct {
	once sync.Once
	b    []byte
}

const prefixLen = 32 << 20

// bytesHandler writes n bytes of Bytes with a Content-Length.
func bytesHandler(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 || n > maxBytes {
		http.Error(w, "n must be an integer from 0 to 1 GiB", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	prefix.once.Do(func() {
		prefix.b = make([]byte, prefixLen)
		io.ReadFull(Bytes(), prefix.b)
	})
	if n <= prefixLen {
		w.Write(prefix.b[:n])
		return
	}
	// Beyond the cache, generated as written: no memory per request.
	src := Bytes()
	buf := make([]byte, 64<<10)
	for n > 0 {
		k := int(min(n, int64(len(buf))))
		src.Read(buf[:k])
		if _, err := w.Write(buf[:k]); err != nil {
			return
		}
		n -= int64(k)
	}
}
