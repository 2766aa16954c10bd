// etcd's concurrency recipes (clientv3/concurrency), as `etcdctl lock` and `etcdctl elect`
// use them: two sessions contend for a Mutex, then campaign in an Election. ENDPOINT is
// replaced by the test.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// waits tells whether done closes within a second.
func waits(done chan struct{}) bool {
	select {
	case <-done:
		return false
	case <-time.After(time.Second):
		return true
	}
}

func main() {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"ENDPOINT"},
		DialTimeout: 5 * time.Second,
	})
	must(err)
	defer client.Close()
	ctx := context.Background()
	a, err := concurrency.NewSession(client, concurrency.WithTTL(10))
	must(err)
	b, err := concurrency.NewSession(client, concurrency.WithTTL(10))
	must(err)

	// A Mutex: B waits while A holds it, and gets it once A unlocks.
	lockA := concurrency.NewMutex(a, "/recipes/lock")
	lockB := concurrency.NewMutex(b, "/recipes/lock")
	must(lockA.Lock(ctx))
	fmt.Println("A holds the lock")
	bLocked := make(chan struct{})
	go func() {
		must(lockB.Lock(ctx))
		close(bLocked)
	}()
	fmt.Println("B waits while A holds it:", waits(bLocked))
	must(lockA.Unlock(ctx))
	fmt.Println("A unlocked")
	<-bLocked
	fmt.Println("B holds the lock")
	must(lockB.Unlock(ctx))

	// An Election: the first candidate leads, the second waits, a proclamation changes the
	// leader's value, and a resignation hands over.
	electionA := concurrency.NewElection(a, "/recipes/election")
	electionB := concurrency.NewElection(b, "/recipes/election")
	must(electionA.Campaign(ctx, "p1"))
	leader, err := electionB.Leader(ctx)
	must(err)
	fmt.Println("leader:", string(leader.Kvs[0].Value))
	bLeads := make(chan struct{})
	go func() {
		must(electionB.Campaign(ctx, "p2"))
		close(bLeads)
	}()
	fmt.Println("p2 waits while p1 leads:", waits(bLeads))
	must(electionA.Proclaim(ctx, "p1-again"))
	leader, err = electionB.Leader(ctx)
	must(err)
	fmt.Println("leader after proclaiming:", string(leader.Kvs[0].Value))
	must(electionA.Resign(ctx))
	<-bLeads
	leader, err = electionA.Leader(ctx)
	must(err)
	fmt.Println("leader after p1 resigned:", string(leader.Kvs[0].Value))
	must(electionB.Resign(ctx))
	must(a.Close())
	must(b.Close())
	fmt.Println("done")
}
