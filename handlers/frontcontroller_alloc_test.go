//go:build !race

package handlers

import "testing"

// TestFrontControllerAllocs: routing a script request, including the
// check that the script is a file below the root, allocates nothing.
func TestFrontControllerAllocs(t *testing.T) {
	fc := newFront(t)
	for _, target := range []string{"/index.php/users/7", "/index.php"} {
		req := parseReq(t, "GET", target)
		ctx := &Ctx{Scratch: make([]byte, 0, 4096)}
		var resp Response
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			fc.Serve(ctx, req, &resp)
		})
		if allocs != 0 || resp.Upstream == nil {
			t.Errorf("%s: %v allocs, routed %v", target, allocs, resp.Upstream != nil)
		}
	}
}
