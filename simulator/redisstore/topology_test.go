package redisstore_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
)

// Real cluster and sentinel set-ups; make test starts both and sets
// SPARRING_REQUIRE_REDIS_TOPOLOGIES=1 so these tests cannot skip there.
const (
	envClusterAddrs   = "SPARRING_TEST_REDIS_CLUSTER_ADDRS"   // comma-separated cluster nodes
	envSentinelAddrs  = "SPARRING_TEST_REDIS_SENTINEL_ADDRS"  // comma-separated sentinels
	envSentinelMaster = "SPARRING_TEST_REDIS_SENTINEL_MASTER" // the master's name
	envRequireTopo    = "SPARRING_REQUIRE_REDIS_TOPOLOGIES"
)

func topologyAddrs(t *testing.T, env string) []string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv(envRequireTopo) == "1" {
			t.Fatalf("%s=1 but %s is empty", envRequireTopo, env)
		}
		t.Skipf("set %s to run this against a real set-up (make test does)", env)
	}
	return strings.Split(v, ",")
}

func TestTopologies(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(t *testing.T) redisstore.Options
	}{
		{"cluster", func(t *testing.T) redisstore.Options {
			return redisstore.Options{Addrs: topologyAddrs(t, envClusterAddrs), ClusterMode: true}
		}},
		{"sentinel", func(t *testing.T) redisstore.Options {
			addrs := topologyAddrs(t, envSentinelAddrs)
			return redisstore.Options{Addrs: addrs, MasterName: os.Getenv(envSentinelMaster)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts(t)
			o.TTL = time.Minute
			o.Prefix = fmt.Sprintf("t:topo:%d:", time.Now().UnixNano())
			b, err := redisstore.Open(t.Context(), o, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			s := b.Store()
			if err := s.Preload(t.Context()); err != nil {
				t.Fatal(err)
			}
			h := &tripCounter{}
			b.Client.AddHook(h)
			// Enough sessions to land on every node of a three-node cluster.
			for i := range 12 {
				id := fmt.Sprintf("s-%d", i)
				mustCreate(t, s, newSession(id))
				for j, after := 0, 1; j < 3; j, after = j+1, after+2 {
					h.take()
					if err := s.Append(t.Context(), id, replyCommit(after, fmt.Sprintf("r%d", j), "hi")); err != nil {
						t.Fatalf("%s: Append %d: %v", id, j, err)
					}
					if trips := h.take(); !slices.Equal(trips, []string{"evalsha"}) {
						t.Errorf("%s: Append %d took round trips %v, want [evalsha]", id, j, trips)
					}
				}
				if err := s.Append(t.Context(), id, replyCommit(7, "r0", "again")); !errors.Is(err, simulator.ErrDuplicateReply) {
					t.Errorf("%s: resend: err = %v, want ErrDuplicateReply", id, err)
				}
				if err := s.Append(t.Context(), id, replyCommit(3, "r9", "stale")); !errors.Is(err, simulator.ErrConflict) {
					t.Errorf("%s: stale: err = %v, want ErrConflict", id, err)
				}
				got := mustLoad(t, s, id)
				if diff := slices.Compare([]int{1, 2, 3, 4, 5, 6, 7}, seqs(got.Events)); diff != 0 {
					t.Errorf("%s: seqs = %v", id, seqs(got.Events))
				}
				meta, log, replies := s.Keys(id)
				if err := b.Client.Del(t.Context(), meta, log, replies).Err(); err != nil {
					t.Errorf("%s: cleanup: %v", id, err)
				}
			}
		})
	}
}
