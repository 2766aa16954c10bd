// The tutorials' cron lock, for `raftbook cluster` (lesson 17): a worker takes the lock
// /cron/lock/job9 with a transaction — if the key was never created, put it with a lease;
// else read who holds it — and keeps the 5-second lease alive while it works. Run two at
// once to see one refused. Usage: go run cronlock/main.go WORKER SECONDS
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"go.etcd.io/etcd/clientv3"
)

const lockKey = "/cron/lock/job9"

func main() {
	worker := os.Args[1]
	seconds, _ := strconv.Atoi(os.Args[2])
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"127.0.0.1:2379", "127.0.0.1:22379", "127.0.0.1:32379"},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// 1. A 5-second lease, kept alive while this worker runs: if it dies, the lock goes
	// with the lease at most 5 s later.
	lease, err := client.Grant(context.TODO(), 5)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stopKeepAlive := context.WithCancel(context.TODO())
	renewals, err := client.KeepAlive(ctx, lease.ID)
	if err != nil {
		log.Fatal(err)
	}
	// Read the renewals' answers: the client stops queueing them (and warns) when nobody does.
	go func() {
		for range renewals {
		}
	}()

	// 2. Take the lock: one transaction, so two workers cannot both see it free.
	txn, err := client.Txn(context.TODO()).
		If(clientv3.Compare(clientv3.CreateRevision(lockKey), "=", 0)).
		Then(clientv3.OpPut(lockKey, worker, clientv3.WithLease(lease.ID))).
		Else(clientv3.OpGet(lockKey)).
		Commit()
	if err != nil {
		log.Fatal(err)
	}
	if !txn.Succeeded {
		holder := txn.Responses[0].GetResponseRange().Kvs[0]
		fmt.Printf("%s: the lock is taken by %s\n", worker, holder.Value)
		stopKeepAlive()
		client.Revoke(context.TODO(), lease.ID)
		return
	}

	// 3. Work while holding it, then release: revoking the lease deletes the key.
	fmt.Printf("%s: got the lock at revision %d\n", worker, txn.Header.Revision)
	time.Sleep(time.Duration(seconds) * time.Second)
	stopKeepAlive()
	client.Revoke(context.TODO(), lease.ID)
	fmt.Printf("%s: released the lock\n", worker)
}
