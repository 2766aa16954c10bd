// The tutorials' first clientv3 program, for `raftbook cluster` (lesson 17): put, get,
// delete, get, then a watch that sees a put and a delete. etcd 3.4's client is imported as
// go.etcd.io/etcd/clientv3 (the tutorials' github.com/coreos/etcd/clientv3 is the same
// package under its older name).
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"127.0.0.1:2379", "127.0.0.1:22379", "127.0.0.1:32379"},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	if _, err := client.Put(ctx, "sample_key", "sample_value"); err != nil {
		log.Fatal(err)
	}
	show(client.Get(ctx, "sample_key"))
	if _, err := client.Delete(ctx, "sample_key"); err != nil {
		log.Fatal(err)
	}
	show(client.Get(ctx, "sample_key"))

	// Watch from the next revision, so the put and delete below are both seen.
	now, err := client.Get(ctx, "sample_key")
	if err != nil {
		log.Fatal(err)
	}
	events := client.Watch(ctx, "sample_key", clientv3.WithRev(now.Header.Revision+1))
	client.Put(ctx, "sample_key", "sample_value1")
	client.Delete(ctx, "sample_key")
	for seen := 0; seen < 2; {
		for _, ev := range (<-events).Events {
			fmt.Printf("%s %q = %q at revision %d\n", ev.Type, ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision)
			seen++
		}
	}
}

func show(resp *clientv3.GetResponse, err error) {
	if err != nil {
		log.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		fmt.Println("not found")
		return
	}
	fmt.Println(string(resp.Kvs[0].Value))
}
