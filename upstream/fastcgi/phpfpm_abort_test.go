package fastcgi

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestPHPFPMAbortRequest records what php-fpm 8.2 does with
// FCGI_ABORT_REQUEST, which the reactor's abort policy rests on: php-fpm
// reads its socket only while reading a request (main/fastcgi.c), so an
// ABORT sent during the script changes nothing: the script runs to its
// end and its whole response and END_REQUEST come back. The ABORT is then
// read where the next BEGIN_REQUEST should be, and php-fpm closes the
// connection. An ABORT between requests closes it the same way. So a kept
// connection after an ABORT would only race php-fpm's close: the reactor
// closes it itself.
func TestPHPFPMAbortRequest(t *testing.T) {
	sock, root := startFPM(t)
	if err := os.WriteFile(filepath.Join(root, "slow.php"), []byte(`<?php usleep(300000); echo "done";`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("during the script", func(t *testing.T) {
		p := dialPeer(t, "unix", sock, 8)
		r, wire := p.begin(phpInfo(root, "GET", "/slow.php", ""), nil)
		p.write(append(wire, AppendAbort(nil, r.id)...))
		p.pump(func() bool { return r.ended })
		if r.body.String() != "done" || r.proto != StatusRequestComplete {
			t.Fatalf("body %q proto %d: want the script's whole output, the ABORT ignored", r.body.String(), r.proto)
		}
		expectEOF(t, p)
	})
	t.Run("between requests", func(t *testing.T) {
		p := dialPeer(t, "unix", sock, 8)
		if r := p.do(phpInfo(root, "GET", "/vars.php", ""), nil); r.head.Status != 201 {
			t.Fatalf("status %d", r.head.Status)
		}
		p.write(AppendAbort(nil, 1))
		expectEOF(t, p)
	})
}

// expectEOF asserts php-fpm closes the connection without sending more.
func expectEOF(t *testing.T, p *peer) {
	t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [64]byte
	n, err := p.nc.Read(b[:])
	if n != 0 || (err != io.EOF && !errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("want php-fpm to close the connection, got %d bytes, %v", n, err)
	}
}
