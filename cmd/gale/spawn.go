package main

import (
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gale-http/gale/internal/config"
)

// spawnGroup is the processes of one upstream's spawn section: Count
// supervised children, each serving FastCGI on its own unix socket.
type spawnGroup struct {
	sockets  []string
	children []*child
}

// startSpawn starts the processes s describes. It does not wait for them;
// see waitListening.
func startSpawn(log *slog.Logger, upstream string, s *config.Spawn) (*spawnGroup, error) {
	path, err := exec.LookPath(s.Command[0])
	if err != nil {
		return nil, err
	}
	env := os.Environ()
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+s.Env[k])
	}
	g := &spawnGroup{}
	for i := 0; i < s.Count; i++ {
		sock := s.SocketPath(i)
		args := make([]string, len(s.Command)-1)
		for j, a := range s.Command[1:] {
			args[j] = strings.ReplaceAll(a, "{socket}", sock)
		}
		g.sockets = append(g.sockets, sock)
		g.children = append(g.children, superviseProcess(&child{
			path: path, args: args, env: env, socket: sock,
			log: log.With("upstream", upstream, "socket", sock),
		}))
	}
	return g, nil
}

// backends are the group's sockets as upstream addresses.
func (g *spawnGroup) backends() []string {
	out := make([]string, len(g.sockets))
	for i, s := range g.sockets {
		out[i] = "unix:" + s
	}
	return out
}

// waitListening waits until every socket accepts connections, or within
// passes; it logs the ones that are not up yet.
func (g *spawnGroup) waitListening(log *slog.Logger, within time.Duration) {
	var wg sync.WaitGroup
	for _, s := range g.sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := waitUnixSocket(s, within); err != nil {
				log.Warn("spawned backend is not up yet; requests to it fail until it is", "socket", s, "err", err)
			}
		}()
	}
	wg.Wait()
}

// Stop stops every process of the group, in parallel.
func (g *spawnGroup) Stop() {
	var wg sync.WaitGroup
	for _, c := range g.children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Stop()
		}()
	}
	wg.Wait()
}
