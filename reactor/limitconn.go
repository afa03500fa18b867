package reactor

import (
	"hash/maphash"
	"net/netip"
	"sync"
)

// ConnLimit caps the busy connections of each client address (nginx
// limit_conn on $binary_remote_addr), all loops together. As nginx counts
// only connections with a request in progress, a connection is counted at
// its request, when its real address is known (PROXY protocol,
// X-Forwarded-For from a trusted proxy), and uncounted when it closes or
// is found idle at a tick (within a tick of its last response, when it
// would park: loop.go); it is counted again at its next request. Over the cap
// the request is answered Status and the connection closed.
//
// Memory is fixed: counts live in a set-associative table of slots, and an
// address finds a free slot (count 0) in its set or is admitted uncounted:
// under a flood of distinct addresses the limit loosens, memory never
// grows.
type ConnLimit struct {
	// Max is the most connections per address; Status the refusal's
	// status (503 or 429).
	Max, Status int
	seed        maphash.Seed
	shards      []connShard
}

type connShard struct {
	mu    sync.Mutex
	slots []connSlot
}

type connSlot struct {
	key [16]byte
	n   int32
}

// NewConnLimit returns a limit of maxConns connections per address, counting up
// to slots addresses (at least 64), refused with status.
func NewConnLimit(maxConns, slots, status int) *ConnLimit {
	const nShards = 16
	slots = max(slots, 64)
	per := (slots/nShards + limitWays - 1) / limitWays * limitWays
	cl := &ConnLimit{Max: maxConns, Status: status, seed: maphash.MakeSeed(), shards: make([]connShard, nShards)}
	for i := range cl.shards {
		cl.shards[i].slots = make([]connSlot, per)
	}
	return cl
}

// limitWays is the table's associativity.
const limitWays = 4

// set returns a's slots, locked; the caller unlocks the shard.
func (cl *ConnLimit) set(key *[16]byte) (*connShard, []connSlot) {
	h := maphash.Bytes(cl.seed, key[:])
	sh := &cl.shards[h%uint64(len(cl.shards))]
	sets := uint64(len(sh.slots) / limitWays)
	sh.mu.Lock()
	return sh, sh.slots[(h/uint64(len(cl.shards)))%sets*limitWays:][:limitWays]
}

// acquire counts a connection from a. ok is false when a is at the cap;
// counted says release must be called when the connection closes.
func (cl *ConnLimit) acquire(a netip.Addr) (ok, counted bool) {
	key := a.As16()
	sh, set := cl.set(&key)
	defer sh.mu.Unlock()
	var free *connSlot
	for i := range set {
		s := &set[i]
		if s.n > 0 && s.key == key {
			if int(s.n) >= cl.Max {
				return false, false
			}
			s.n++
			return true, true
		}
		if s.n == 0 && free == nil {
			free = s
		}
	}
	if free == nil {
		return true, false // the set is full of others: admitted uncounted
	}
	free.key, free.n = key, 1
	return true, true
}

// release uncounts a connection acquire counted.
func (cl *ConnLimit) release(a netip.Addr) {
	key := a.As16()
	sh, set := cl.set(&key)
	defer sh.mu.Unlock()
	for i := range set {
		if s := &set[i]; s.n > 0 && s.key == key {
			s.n--
			return
		}
	}
}

// admitClient counts cs under the connection limit at a request when it
// is not counted yet, and reports whether it may be served; over the cap
// it is answered lc.Status and closes.
func (l *loop) admitClient(cs *conn, lc *ConnLimit) bool {
	a := cs.client.Addr()
	ok, counted := lc.acquire(a)
	if counted {
		cs.limited = a
	}
	if !ok {
		l.s.cfg.Logger.Info("connection limit per address reached", "client", a.String(), "max", lc.Max)
		l.queueError(cs, lc.Status)
		l.accountError(cs, lc.Status, l.batchStart)
	}
	return ok
}

// unlimit gives back cs's count under the connection limit, if it has one.
func (l *loop) unlimit(cs *conn) {
	if cs.limited.IsValid() {
		l.s.cfg.LimitConn.release(cs.limited)
		cs.limited = netip.Addr{}
	}
}
