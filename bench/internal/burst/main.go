// Command burst sends n concurrent GETs of one URL at once and prints how
// many failed and the latency percentiles: the stampede measurement of
// scripts/cache-stampede.sh (issue 17).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "", "the URL every request asks for")
	n := flag.Int("n", 500, "concurrent requests")
	warm := flag.String("warm", "", "a URL each client fetches first, so the burst goes on open keep-alive connections")
	flag.Parse()
	if *url == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: burst -url URL [-n N]")
		os.Exit(2)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *n}, Timeout: 30 * time.Second}
	lat := make([]time.Duration, *n)
	failed := make([]bool, *n)
	start := make(chan struct{})
	var wg, ready sync.WaitGroup
	for i := range *n {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			if *warm != "" {
				if resp, err := c.Get(*warm); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			ready.Done()
			<-start
			t0 := time.Now()
			resp, err := c.Get(*url)
			if err != nil {
				failed[i] = true
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			lat[i] = time.Since(t0)
			failed[i] = resp.StatusCode != 200 || len(b) == 0
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	bad := 0
	for _, f := range failed {
		if f {
			bad++
		}
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	fmt.Printf("n=%d errors=%d p50=%v p99=%v max=%v\n", *n, bad,
		lat[*n/2].Round(time.Millisecond), lat[*n*99/100].Round(time.Millisecond), lat[*n-1].Round(time.Millisecond))
}
