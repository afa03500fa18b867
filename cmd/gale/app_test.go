package main

import (
	"testing"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
)

// TestAppHandlerMount: a pass location's SCRIPT_NAME is its mount and
// PATH_INFO the rest, cut only at a segment boundary.
func TestAppHandlerMount(t *testing.T) {
	for _, tc := range []struct{ prefix, path, script, info string }{
		{"/", "/users/7", "", "/users/7"},
		{"/app/", "/app/users/7", "/app", "/users/7"},
		{"/app/", "/app/", "/app", "/"},
		{"/app", "/app", "/app", ""},
		{"/app", "/apple", "", "/apple"},
		{"", "/x.py/y", "", "/x.py/y"},
	} {
		h := newAppHandler(nil, "/srv", tc.prefix, nil)
		var resp handlers.Response
		h.Serve(&handlers.Ctx{}, &httpcodec.Request{Path: []byte(tc.path)}, &resp)
		if r := resp.Upstream; r == nil || string(r.ScriptName) != tc.script || string(r.PathInfo) != tc.info {
			t.Errorf("prefix %q, path %q: %+v, want SCRIPT_NAME %q PATH_INFO %q", tc.prefix, tc.path, r, tc.script, tc.info)
		}
	}
}
