package main

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// dockerfile is the repository's Dockerfile, parsed into instructions
// (continuation lines joined, comments dropped).
type dockerfile struct {
	lines []string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		d.lines = append(d.lines, cur.String())
		cur.Reset()
	}
	return d
}

// find returns the instructions starting with prefix.
func (d dockerfile) find(prefix string) []string {
	var out []string
	for _, l := range d.lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// TestDockerfileBuild builds gale with exactly the Dockerfile's build
// command (its RUN ... go build line, run from the repository root as the
// Dockerfile's COPY . . puts it) and checks the result is what the final
// stage needs: a static binary, stamped with the version, small enough,
// whose `gale healthcheck` (the image's HEALTHCHECK) passes against a gale
// started from the same binary and fails once it is gone. The final stage
// itself is checked for a minimal base, a non-root user, EXPOSE, the
// HEALTHCHECK command and SIGTERM as the stop signal.
func TestDockerfileBuild(t *testing.T) {
	d := readDockerfile(t)
	builds := d.find("RUN CGO_ENABLED=0 go build")
	if len(builds) != 1 {
		t.Fatalf("want one RUN CGO_ENABLED=0 go build line, found %q", builds)
	}
	cmdline := strings.TrimPrefix(builds[0], "RUN ")
	for _, want := range []string{"-trimpath", "-X main.version=${VERSION}", "-o /out/gale", "./cmd/gale"} {
		if !strings.Contains(cmdline, want) {
			t.Fatalf("build command %q lacks %q", cmdline, want)
		}
	}
	froms := d.find("FROM ")
	final := froms[len(froms)-1]
	if !strings.Contains(final, "distroless/static") && final != "FROM scratch" {
		t.Errorf("final stage %q is not distroless static or scratch", final)
	}
	if u := d.find("USER "); len(u) == 0 {
		t.Error("the final stage has no USER: it would run as root")
	} else if user, _, _ := strings.Cut(strings.TrimPrefix(u[len(u)-1], "USER "), ":"); user == "root" || user == "0" {
		t.Errorf("final stage %q runs as root", u[len(u)-1])
	}
	if e := d.find("EXPOSE "); len(e) != 1 || !strings.Contains(e[0], "8080") || !strings.Contains(e[0], "9145") {
		t.Errorf("EXPOSE %q: want the HTTP and admin ports", e)
	}
	if s := d.find("STOPSIGNAL "); len(s) != 1 || s[0] != "STOPSIGNAL SIGTERM" {
		t.Errorf("STOPSIGNAL %q", s)
	}
	hc := d.find("HEALTHCHECK ")
	if len(hc) != 1 || !strings.HasSuffix(hc[0], `CMD ["/usr/local/bin/gale", "healthcheck"]`) {
		t.Fatalf("HEALTHCHECK %q: want gale healthcheck in exec form", hc)
	}
	envAdmin := ""
	for _, e := range d.find("ENV GALE_ADMIN=") {
		envAdmin = strings.TrimPrefix(e, "ENV GALE_ADMIN=")
	}
	if !strings.HasSuffix(envAdmin, ":9145") {
		t.Fatalf("ENV GALE_ADMIN=%q: the healthcheck needs the admin port", envAdmin)
	}

	out := t.TempDir()
	bin := filepath.Join(out, "gale")
	const stamp = "v9.9.9-test"
	cmdline = strings.ReplaceAll(cmdline, "${VERSION}", stamp)
	cmdline = strings.ReplaceAll(cmdline, "/out/gale", bin)
	build := exec.Command("sh", "-c", cmdline)
	build.Dir = "../.."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binary: %.1f MiB", float64(st.Size())/(1<<20))
	// distroless/static is about 2 MiB: the image stays under 20 MB.
	if st.Size() > 17<<20 {
		t.Errorf("binary is %d bytes: the image would not stay under 20 MB", st.Size())
	}
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary is dynamically linked (%v): it cannot run on distroless/static", p.Type)
		}
	}
	ef.Close()
	if v, err := exec.Command(bin, "-version").Output(); err != nil || strings.TrimSpace(string(v)) != "gale "+stamp {
		t.Errorf("-version: %q, %v; want the stamped %q", v, err, stamp)
	}

	// The image's HEALTHCHECK: GALE_ADMIN set as in the image, no flags.
	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	listen := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "index.html"), []byte("hi\n"), 0o644)
	env := append(os.Environ(), "GALE_ADMIN="+strings.Replace(admin, "127.0.0.1", "0.0.0.0", 1))
	g := exec.Command(bin, "-listen", listen, "-root", root, "-loops", "1")
	g.Env = env
	var gout outBuffer
	g.Stdout, g.Stderr = &gout, &gout
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if g.ProcessState == nil {
			g.Process.Kill()
			g.Wait()
		}
	}()
	testenv.WaitPort(t, admin, 10*time.Second)
	check := func() error {
		hc := exec.Command(bin, "healthcheck")
		hc.Env = env
		b, err := hc.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, b)
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatalf("gale healthcheck against a running gale: %v\ngale output:\n%s", err, gout.String())
	}
	// docker stop: SIGTERM drains and exits 0.
	g.Process.Signal(syscall.SIGTERM)
	if err := g.Wait(); err != nil {
		t.Fatalf("gale after SIGTERM: %v\n%s", err, gout.String())
	}
	err = check()
	if err == nil {
		t.Fatal("gale healthcheck passed with gale stopped")
	}
	if !regexp.MustCompile(`exit status 1: gale: healthcheck: .*connection refused`).MatchString(err.Error()) {
		t.Errorf("healthcheck failure: %v", err)
	}
}
