package upstream

import (
	"testing"
	"time"
)

func TestParseAddrs(t *testing.T) {
	bs, err := ParseAddrs("127.0.0.1:9000, unix:/run/php.sock")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Network != "tcp" || bs[0].Address != "127.0.0.1:9000" ||
		bs[1].Network != "unix" || bs[1].Address != "/run/php.sock" || bs[1].String() != "unix:/run/php.sock" {
		t.Fatalf("parsed %+v %+v", bs[0], bs[1])
	}
	for _, bad := range []string{"", " , ", "unix:", "no-port", "host:port:extra"} {
		if _, err := ParseAddrs(bad); err == nil {
			t.Errorf("ParseAddrs(%q) accepted", bad)
		}
	}
}

func TestBudget(t *testing.T) {
	bs, _ := ParseAddrs("127.0.0.1:1")
	u := &Upstream{Backends: bs, MaxConns: 2}
	u.Init(4)
	b := bs[0]
	if !b.Acquire() || !b.Acquire() {
		t.Fatal("budget of 2 refused")
	}
	if b.Acquire() {
		t.Fatal("a third connection exceeded the budget")
	}
	if u.Pick(time.Now(), time.Time{}, nil) != nil {
		t.Fatal("Pick returned a backend with no budget left")
	}
	b.Release()
	if u.Pick(time.Now(), time.Time{}, nil) != b || !b.Acquire() {
		t.Fatal("released budget not reusable")
	}
}

func TestDefaultBudgetAndValues(t *testing.T) {
	bs, _ := ParseAddrs("127.0.0.1:1")
	u := &Upstream{Backends: bs}
	u.Init(3)
	if got := bs[0].Limit(); got != 12 {
		t.Fatalf("default budget %d, want 4 x loops = 12", got)
	}
	bs[0].SetValues(u, 5, 10, true)
	if got := bs[0].Limit(); got != 5 {
		t.Fatalf("budget %d after FCGI_MAX_CONNS=5", got)
	}
	if got := bs[0].MuxLimit(u); got != 10 {
		t.Fatalf("mux limit %d, want FCGI_MAX_REQS=10", got)
	}
	u2 := &Upstream{Backends: bs, MaxConns: 7}
	u2.Init(1)
	bs[0].SetValues(u2, 5, 0, false)
	if bs[0].Limit() != 7 || bs[0].MuxLimit(u2) != 1 {
		t.Fatalf("configured budget overridden: %d, mux %d", bs[0].Limit(), bs[0].MuxLimit(u2))
	}
}

func TestRoundRobinLeastConnAndHealth(t *testing.T) {
	bs, _ := ParseAddrs("127.0.0.1:1,127.0.0.1:2,127.0.0.1:3")
	u := &Upstream{Backends: bs, MaxFails: 2, FailTimeout: time.Minute}
	u.Init(1)
	now := time.Now()
	seen := map[*Backend]int{}
	for i := 0; i < 30; i++ {
		seen[u.Pick(now, time.Time{}, nil)]++
	}
	for _, b := range bs {
		if seen[b] != 10 {
			t.Fatalf("round-robin uneven: %v", seen)
		}
	}
	// Two failures mark a backend down for FailTimeout.
	bs[1].Failed(u, now)
	if !bs[1].healthy(now) {
		t.Fatal("down after one failure with max_fails=2")
	}
	bs[1].Failed(u, now)
	for i := 0; i < 10; i++ {
		if u.Pick(now, time.Time{}, nil) == bs[1] {
			t.Fatal("picked a backend marked down")
		}
	}
	if !bs[1].healthy(now.Add(2 * time.Minute)) {
		t.Fatal("still down after fail_timeout")
	}
	if u.Pick(now, time.Time{}, bs[0]) == bs[0] {
		t.Fatal("picked the backend to skip")
	}
	// Least-conn prefers the emptiest healthy backend.
	u.Balance = LeastConn
	bs[0].Acquire()
	bs[0].Acquire()
	if got := u.Pick(now, time.Time{}, nil); got != bs[2] {
		t.Fatalf("least-conn picked %v", got)
	}
	// A lone backend is never marked down.
	one, _ := ParseAddrs("127.0.0.1:9")
	lone := &Upstream{Backends: one}
	lone.Init(1)
	for i := 0; i < 5; i++ {
		one[0].Failed(lone, now)
	}
	if !lone.Healthy(now) {
		t.Fatal("a lone backend was marked down")
	}
}

// TestUnreachableAfterConnectFailure: a request that began waiting before
// a connect to the only backend failed sees it unreachable; one that began
// after, or after a connect succeeded again, does not.
func TestUnreachableAfterConnectFailure(t *testing.T) {
	b := &Backend{Network: "tcp", Address: "127.0.0.1:1"}
	u := &Upstream{Backends: []*Backend{b}}
	u.Init(1)
	t0 := time.Now()
	if u.Unreachable(t0, t0) {
		t.Fatal("unreachable before any failure")
	}
	b.ConnectFailed(t0.Add(time.Millisecond))
	if !u.Unreachable(t0, t0) {
		t.Fatal("a request waiting since before the failure still sees the backend reachable")
	}
	if u.Pick(t0, t0, nil) != nil {
		t.Fatal("Pick offered a backend whose connect failed while the request waited")
	}
	later := t0.Add(time.Second)
	if u.Unreachable(later, later) || u.Pick(later, later, nil) != b {
		t.Fatal("a request that began after the failure may not try the backend")
	}
	b.ConnectOK()
	if u.Unreachable(t0, t0) {
		t.Fatal("unreachable after a successful connect")
	}
}

// TestOlderWaiting: a loop sees another loop's older waiting request, not
// its own, and not a younger one.
func TestOlderWaiting(t *testing.T) {
	u := &Upstream{}
	a, b := u.NewQueueHead(), u.NewQueueHead()
	t1, t2 := u.Ticket(), u.Ticket()
	if u.OlderWaiting(a, 0) {
		t.Fatal("older waiting with every queue empty")
	}
	a.Store(t1)
	if u.OlderWaiting(a, t1) {
		t.Fatal("a queue saw its own head")
	}
	if !u.OlderWaiting(b, 0) || !u.OlderWaiting(b, t2) {
		t.Fatal("an empty or younger queue did not see the older one")
	}
	b.Store(t2)
	if u.OlderWaiting(a, t1) {
		t.Fatal("the oldest queue saw a younger one as older")
	}
}

// TestHasRoom: room while a backend has budget left.
func TestHasRoom(t *testing.T) {
	b := &Backend{Network: "tcp", Address: "127.0.0.1:1"}
	u := &Upstream{Backends: []*Backend{b}, MaxConns: 1}
	u.Init(1)
	if !u.HasRoom() || !b.Acquire() || u.HasRoom() {
		t.Fatal("room before, none after taking the only connection")
	}
	b.Release()
	if !u.HasRoom() {
		t.Fatal("no room after the release")
	}
}

// TestDisable: a disabled backend is never picked and has no room, yet
// the upstream stays healthy (requests queue for it); Enable brings it
// back with a clean record; a managed upstream never marks one down.
func TestDisable(t *testing.T) {
	bs, err := ParseAddrs("unix:/a,unix:/b")
	if err != nil {
		t.Fatal(err)
	}
	u := &Upstream{Name: "py", Backends: bs, MaxConns: 1}
	u.Init(1)
	now := time.Now()
	bs[0].Disable()
	for i := 0; i < 4; i++ {
		if b := u.Pick(now, now, nil); b != bs[1] {
			t.Fatalf("Pick = %v, want the enabled backend", b)
		}
	}
	bs[1].Disable()
	if b := u.Pick(now, now, nil); b != nil {
		t.Errorf("Pick with every backend disabled = %v", b)
	}
	if u.HasRoom() || !u.Healthy(now) || u.Unreachable(now, now) {
		t.Errorf("all disabled: HasRoom %v Healthy %v Unreachable %v; want false true false (requests wait)", u.HasRoom(), u.Healthy(now), u.Unreachable(now, now))
	}
	bs[0].Failed(u, now) // MaxFails 1: marked down
	if bs[0].Up(now) {
		t.Fatalf("a failure did not mark the backend down")
	}
	bs[0].Enable()
	if !bs[0].Up(now) || bs[0].Disabled() || u.Pick(now, now, nil) != bs[0] {
		t.Errorf("Enable did not bring the backend back")
	}
	u.Managed = true
	bs[0].Failed(u, now)
	if !bs[0].Up(now) {
		t.Errorf("a managed upstream's backend was marked down")
	}
}

// TestOneShotBudget: the default budget becomes OneShotBudget while a
// backend serves one request per connection and comes back once one is
// reused; a
// configured budget and one the backend reported are left alone.
func TestOneShotBudget(t *testing.T) {
	u := &Upstream{Backends: []*Backend{{Network: "unix", Address: "/a"}}}
	u.Init(2)
	b := u.Backends[0]
	if b.Limit() != 8 {
		t.Fatalf("default budget %d, want 8", b.Limit())
	}
	b.OneShot()
	b.OneShot()
	if b.Limit() != OneShotBudget {
		t.Fatalf("after one-shot connections: %d, want %d", b.Limit(), OneShotBudget)
	}
	b.ObserveReuse()
	if b.Limit() != 8 {
		t.Fatalf("after a reuse: %d, want 8", b.Limit())
	}
	b.SetValues(u, 5, 0, false)
	b.OneShot()
	if b.Limit() != 5 {
		t.Fatalf("a reported FCGI_MAX_CONNS changed: %d, want 5", b.Limit())
	}
	h := &Upstream{Protocol: openPool{}, Backends: []*Backend{{Network: "unix", Address: "/h"}}}
	h.Init(1)
	hb := h.Backends[0]
	for _, step := range []func(){func() {}, hb.OneShot, hb.ObserveReuse} {
		step()
		if hb.Limit() != OneShotBudget {
			t.Fatalf("an HTTP app's budget: %d, want %d whether it keeps connections or not", hb.Limit(), OneShotBudget)
		}
	}
	c := &Upstream{MaxConns: 3, Backends: []*Backend{{Network: "unix", Address: "/b"}}}
	c.Init(2)
	c.Backends[0].OneShot()
	if c.Backends[0].Limit() != 3 {
		t.Fatalf("a configured budget changed: %d, want 3", c.Backends[0].Limit())
	}
}

// openPool is a Protocol whose backends serve any number of connections
// (an HTTP app's): only Caps matters to Init.
type openPool struct{ Protocol }

func (openPool) Caps() Caps { return Caps{KeepAlive: true, OpenPool: true} }

var nameSink string

// TestBackendStringAllocs: a backend's name is made once by Init; a
// backend that takes one request per connection is dialed (and its
// connection named) for every request.
func TestBackendStringAllocs(t *testing.T) {
	u := &Upstream{Backends: []*Backend{{Network: "unix", Address: "/run/app.sock"}}}
	u.Init(1)
	b := u.Backends[0]
	if n := testing.AllocsPerRun(100, func() { nameSink = b.String() }); n != 0 || b.String() != "unix:/run/app.sock" {
		t.Fatalf("%q: %v allocations", b.String(), n)
	}
}
