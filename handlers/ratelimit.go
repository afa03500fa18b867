package handlers

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// RateLimit bounds the request rate of each client address (nginx
// limit_req): a leaky bucket per address drains at Rate requests per
// second and holds Burst requests beyond it; a request that would overflow
// it is refused with Status. A request within the burst waits until the
// rate lets it through (Allow's delay; the reactor holds it unread), or is
// served at once with NoDelay (nginx nodelay).
//
// Memory is bounded: the buckets live in a fixed table of Slots entries
// (4-way set-associative, sharded by address hash), and a new address
// takes the least recently seen slot of its set, as nginx's zone drops its
// oldest states when full. A flood of addresses can therefore only reset
// buckets, never grow memory. Safe for concurrent use by every loop.
type RateLimit struct {
	// Status is the refusal's status: 503 (nginx's default) or 429.
	Status int
	// NoDelay serves requests within the burst at once instead of pacing
	// them at the rate.
	NoDelay bool
	rate    int64 // milli-requests per second
	burst   int64 // in milli-requests
	seed    maphash.Seed
	shards  []limitShard
	now     func() int64 // milliseconds; time.Now unless a test sets it
}

// limitWays is the associativity of the table: a new address evicts the
// least recently seen of this many slots.
const limitWays = 4

type limitShard struct {
	mu    sync.Mutex
	slots []limitSlot
}

type limitSlot struct {
	key    [16]byte
	used   bool
	excess int64 // milli-requests above the rate
	last   int64 // milliseconds
}

// NewRateLimit returns a limit of perSecond requests per second with
// burst requests of slack, refused with status, remembering up to slots
// addresses (at least 64).
func NewRateLimit(perSecond float64, burst, slots, status int) *RateLimit {
	const nShards = 16
	slots = max(slots, 64)
	per := (slots/nShards + limitWays - 1) / limitWays * limitWays
	rl := &RateLimit{
		Status: status,
		rate:   max(int64(perSecond*1000), 1),
		burst:  int64(burst) * 1000,
		seed:   maphash.MakeSeed(),
		shards: make([]limitShard, nShards),
		now:    func() int64 { return time.Now().UnixMilli() },
	}
	for i := range rl.shards {
		rl.shards[i].slots = make([]limitSlot, per)
	}
	return rl
}

// Allow counts a request from addr and reports whether it is within the
// limit, and how long it must wait for its turn (0 with NoDelay, or when
// the bucket was empty). It allocates nothing.
func (rl *RateLimit) Allow(addr netip.Addr) (bool, time.Duration) {
	key := addr.As16()
	h := maphash.Bytes(rl.seed, key[:])
	sh := &rl.shards[h%uint64(len(rl.shards))]
	now := rl.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sets := uint64(len(sh.slots) / limitWays)
	set := sh.slots[(h/uint64(len(rl.shards)))%sets*limitWays:][:limitWays]
	victim := &set[0]
	for i := range set {
		s := &set[i]
		if s.used && s.key == key {
			// nginx's ngx_http_limit_req_lookup: drain by the time
			// elapsed, add this request, refuse past the burst.
			ms := max(now-s.last, 0)
			excess := max(s.excess-rl.rate*ms/1000+1000, 0)
			if excess > rl.burst {
				return false, 0
			}
			s.excess, s.last = excess, now
			if rl.NoDelay {
				return true, 0
			}
			// nginx: what is above the rate waits excess/rate.
			return true, time.Duration(excess*1000/rl.rate) * time.Millisecond
		}
		if !s.used || s.last < victim.last && victim.used {
			victim = s
		}
	}
	*victim = limitSlot{key: key, used: true, last: now}
	return true, 0
}
