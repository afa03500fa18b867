package handlers

import (
	"bytes"
	"hash/maphash"
	"net/url"
	"strings"
	"time"
)

// Purges, for the admin listener. A hard purge removes entries; a soft
// purge marks them stale, so they are revalidated (a 304 keeps their
// body) and may still stand in for a failing application within
// stale-if-error (Fastly's soft purge). Each returns the entries it
// touched (PurgeAll: -1, it does not count).

// PurgeKey purges the entry of a key (host and target, as in the
// Cache-Status key), all its variants with it.
func (c *RespCache) PurgeKey(key string, soft bool) int {
	if !soft {
		m, d, pin, ok := c.st.get(maphash.String(c.seed, key))
		if !ok {
			return 0
		}
		same := string(d[:m.keyN]) == key
		pin.Release()
		if !same {
			return 0
		}
		c.st.del(maphash.String(c.seed, key))
		c.Stats.Purged.Add(1)
		return 1 // variants under a Vary list are orphaned with it
	}
	return c.purgeWhere(soft, func(m *entryMeta, d []byte) bool {
		k := d[:m.keyN]
		return string(k) == key || len(k) > len(key) && string(k[:len(key)]) == key && k[len(key)] == 0
	})
}

// PurgeURL purges the entry of an absolute URL (http://host/path?query).
func (c *RespCache) PurgeURL(raw string, soft bool) (int, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return 0, errBadPurgeURL
	}
	return c.PurgeKey(strings.ToLower(u.Host)+u.RequestURI(), soft), nil
}

// PurgePrefix purges every entry whose key starts with prefix (host and
// the start of a path: "example.com/blog/").
func (c *RespCache) PurgePrefix(prefix string, soft bool) int {
	return c.purgeWhere(soft, func(m *entryMeta, d []byte) bool {
		return bytes.HasPrefix(d[:m.keyN], []byte(prefix))
	})
}

// PurgeTag purges every entry whose tag header listed tag.
func (c *RespCache) PurgeTag(tag string, soft bool) int {
	return c.purgeWhere(soft, func(m *entryMeta, d []byte) bool {
		for _, t := range bytes.FieldsFunc(m.tags(d), func(r rune) bool { return r == ' ' || r == ',' }) {
			if string(t) == tag {
				return true
			}
		}
		return false
	})
}

// PurgeAll purges everything in O(1): a hard purge starts a new
// generation (older entries are misses and leave with their pages), a
// soft one marks everything stored until now stale.
func (c *RespCache) PurgeAll(soft bool) int {
	if soft {
		c.softAll.Store(time.Now().UnixNano())
	} else {
		c.gen.Add(1)
	}
	return -1
}

func (c *RespCache) purgeWhere(soft bool, match func(m *entryMeta, d []byte) bool) int {
	n := c.st.scan(func(m *entryMeta, d []byte) scanAction {
		if m.flags&fVarySpec != 0 && soft || !match(m, d) {
			return scanKeep
		}
		if soft {
			m.flags |= fSoftPurged
			return scanMarked
		}
		return scanDelete
	})
	c.Stats.Purged.Add(uint64(n))
	return n
}

type purgeError string

func (e purgeError) Error() string { return string(e) }

const errBadPurgeURL = purgeError("purge: want an absolute URL, e.g. http://example.com/path")
