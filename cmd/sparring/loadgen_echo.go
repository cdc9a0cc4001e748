package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
)

// echoServer is the ceiling loadgen --echo compares Sparring with: a bare
// gorilla server (same 1 KiB buffers and write-buffer pool as web.Server)
// that, for each reply frame, does one pipelined Redis write (RPUSH + HSET +
// EXPIRE on hash-tagged keys) and answers one customer frame. No JSON
// decoding, no scoring, no persona: what is left is transport + Redis.
type echoServer struct {
	wsURL string
	srv   *http.Server
	ln    net.Listener
	wg    sync.WaitGroup
}

func startEchoServer(rdb *redis.Client) (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("echo server: %w", err)
	}
	es := &echoServer{wsURL: "ws://" + ln.Addr().String() + "/ws", ln: ln}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{}}
	var ids atomic.Int64
	opening := []byte(`{"type":"customer","seq":1,"turn":0,"text":"hello"}`)
	es.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		es.wg.Add(1)
		defer es.wg.Done()
		defer ws.Close()
		id := strconv.FormatInt(ids.Add(1), 10)
		logKey, metaKey := "echo:{"+id+"}:log", "echo:{"+id+"}:meta"
		ctx := context.Background()
		turn := 0
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if bytes.Contains(msg, []byte(`"type":"start"`)) {
				if ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"session"}`)) != nil ||
					ws.WriteMessage(websocket.TextMessage, opening) != nil {
					return
				}
				continue
			}
			turn++
			_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.RPush(ctx, logKey, msg)
				p.HSet(ctx, metaKey, "turn", turn)
				p.Expire(ctx, logKey, time.Hour)
				p.Expire(ctx, metaKey, time.Hour)
				return nil
			})
			out := `{"type":"customer","turn":` + strconv.Itoa(turn) + `}`
			if err != nil {
				out = `{"type":"error","code":"unavailable"}`
			}
			if ws.WriteMessage(websocket.TextMessage, []byte(out)) != nil {
				return
			}
		}
	})}
	go func() { _ = es.srv.Serve(ln) }()
	return es, nil
}

func (es *echoServer) close() {
	_ = es.srv.Close()
}
