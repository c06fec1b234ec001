package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chatOnce is one citizen's first message over the web path: open the
// chat socket, say hello, wait for the desk's answer. It returns the time
// from sending to the answer.
func chatOnce(ctx context.Context, addr string, n int64) (time.Duration, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		return 0, err
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err != nil { // hello
		return 0, err
	}
	start := time.Now()
	msg := fmt.Sprintf(`{"type":"message","id":"b%d","text":"楼上装修太吵了"}`, n)
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return 0, err
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return 0, err
		}
		var f struct{ Type string }
		if json.Unmarshal(b, &f) == nil && f.Type == "message" {
			return time.Since(start), nil
		}
	}
}

// BenchmarkWebChat measures the web path end to end over loopback: the
// real `deskbot serve` with SQLite in a temp folder, a new citizen per
// message, from the message sent on the socket to the desk's answer
// pushed back by the outbox. It reports the answer latency (p50, p99)
// and, in parallel, messages per second.
//
//	go test ./cmd/deskbot -run '^$' -bench WebChat -benchtime 300x
func BenchmarkWebChat(b *testing.B) {
	addr, _, _ := startServe(b, map[string]string{})
	ctx := context.Background()
	var seq atomic.Int64

	b.Run("latency", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			d, err := chatOnce(ctx, addr, seq.Add(1))
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, d)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(4)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := chatOnce(ctx, addr, seq.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	})
}
