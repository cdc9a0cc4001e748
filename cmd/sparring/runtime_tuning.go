package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultGOGC is the GC target serve uses unless GOGC is set. The default
// 100 collects too often for the turn path's tail latency at realistic load
// (the collector scans every connection's goroutine stack); 400 let the
// garbage of 10,000 handshakes (net/http's and gorilla's per-connection
// buffers, about 25 KiB each) sit in RSS: 20–24 KiB per idle session against
// issue 9's 24. 200 measured 19.8 KiB with no difference in CPU per turn
// or closed-loop throughput within this machine's noise (docs/PERFORMANCE.md).
// GOMEMLIMIT bounds the heap either way.
const defaultGOGC = 200

// tuneRuntime applies serve's runtime defaults: the open-file limit raised to
// its hard limit (every WebSocket is a descriptor), GOGC=200 unless GOGC is
// set, and, when neither GOMEMLIMIT is set nor is there none to find, a soft
// memory limit of 70% of the cgroup's memory.max so the larger heap
// GOGC=200 allows cannot push the container into the OOM killer.
func tuneRuntime(getenv func(string) string, stderr io.Writer) {
	if n, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "sparring: cannot raise the open-file limit: %v\n", err)
	} else if n < 16384 {
		fmt.Fprintf(stderr, "sparring: the open-file limit is %d, so at most about %d WebSocket sessions fit; raise the hard limit (ulimit -Hn, LimitNOFILE=) for more\n", n, n-256)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		if limit, ok := cgroupMemoryMax(); ok {
			debug.SetMemoryLimit(limit / 10 * 7)
		}
	}
}

// cgroupMemoryMax reads the cgroup v2 memory limit ("max" means none).
func cgroupMemoryMax() (int64, bool) {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil && n > 0
}
