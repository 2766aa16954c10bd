# The playground's words in English. Every label, button, tooltip, notice and heading of the
# page is here (etcdctl's output and the scenario language stay as they print: they are code).
# A message's id is what the page asks for; `{ $name }` is filled in by the page.

page-title = raftbook — Raft and etcd, running
language = language

## Time controls
play = Play
pause = Pause
play-title = play / pause (space)
step = Step
step-title = to the next event (→)
speed = speed
scrubber-title = go back to any earlier moment
time = t = { $seconds } s

## A new run, lessons
nodes = nodes
seed = seed
new-run = new run
lesson-title = open a lesson beside the cluster
lessons = lessons…

## The network
partition-title = groups of nodes that can talk among themselves
partition = partition
heal-all = heal all
latency = latency
loss = loss
client-load = client load
load-off = off
load-rate = { $rate } puts/s
footer = space: play/pause · →: step · click a node for details, a link to cut it, a message to drop it

## Roles and states of a member
role-follower = follower
role-pre-candidate = pre-candidate
role-candidate = candidate
role-leader = leader
role-learner = learner
role-down = down
role-paused = paused
progress-probe = probe
progress-replicate = replicate
progress-snapshot = snapshot

## The cluster drawing
cluster-label = the cluster
node-title = n{ $id }: click for details
link-open = link n{ $a }–n{ $b }: open (click: cut both ways, shift-click: cut one way)
link-cut = link n{ $a }–n{ $b }: cut both ways (click: restore)
link-one-way = link n{ $a }–n{ $b }: only n{ $from }→n{ $to } works (click: restore)
message-title = #{ $id } { $summary } n{ $from }→n{ $to }{ $reject }
    sent { $sent }ms, arrives { $arrives }ms (click to drop)
message-reject = {" "}REJECT
messages-crowded = messages in flight, too many to name: their colours say their kinds. Pause to pick one.
legend-label = colours of the messages
legend-rejected = rejected

## Logs
logs = Logs
log-commit = commit { $commit } applied { $applied }
log-snapshot = snap ≤{ $index }
log-snapshot-title = compacted into a snapshot
log-progress = n{ $id } match { $matched } next { $next } { $state }
leaders-view = leader's view:{" "}

## The selected member
member = Member n{ $id }
member-state = { $role } · term { $term } · voted { $vote } · leader { $leader } · commit { $commit } · applied { $applied }
member-down = down: only its disk remains
restart = restart
restart-title = start it again from its disk
resume = resume
resume-title = let it run again
crash = crash
crash-title = power loss: unsynced writes are lost
pause-node = pause
pause-node-title = freeze it (like SIGSTOP)
isolate = isolate
isolate-title = cut it off from everyone
campaign = campaign
campaign-title = start an election now
make-leader = make leader
make-leader-title = ask the leader to hand over
snapshot = snapshot
snapshot-title = snapshot and compact its log
store-summary = revision { $revision } · compacted at { $compacted } · { $versions } versions kept
column-key = key
column-value = value
column-create = create
column-mod = mod
column-version = ver
column-lease = lease
leases = Leases
lease-left = { $seconds }s left
lease-leader-counts = (the leader counts it down)
lease-line = { $id } TTL { $ttl }s, { $left }, keys [{ $keys }]
watches = Watches
watch-line = watch { $id } on { $key }{ $range } (next revision { $next })

## The console
console = Console
console-target-title = which member the command goes to
to-leader = → leader

## Safety
safety-violation = Safety violation
safety-holds = ✔ safety holds: election safety, leader append-only, log matching, leader completeness, state machine safety (Raft paper, Figure 3)

## Lessons
answer-first = answer the question above first
run = run
running = running…
run-all = run all from here
reset-to = reset to here
expected-output = expected output
predict = Predict:{" "}
right = Right.{" "}
not-quite = Not quite.{" "}
run-next = {" "}Run the next cell to see it.
exercise = Exercise:{" "}
exercise-solved = Exercise (solved ✔):{" "}
real-cluster = On a real cluster:{" "}
real-cluster-how = type the cluster> lines into the terminal running raftbook cluster, the $ lines into another terminal.
start-exercise = start exercise
restart-exercise = restart exercise
check-answer = check my answer
back = ◀ back
next = next ▶
close = close

## Notices
no-exercise = no exercise “{ $id }” in lesson { $lesson }
no-lesson = no lesson called “{ $lesson }”
lessons-unavailable = could not fetch the lessons ({ $error }): reload the page to try again
lesson-waiting = Opening the lesson “{ $lesson }”…
link-unreadable = could not read the link: { $error }
link-unreplayable = could not replay the link: { $error }
catching-up = Replaying the link: { $done } s of { $of } s. The run's controls wait until it is there.

## Keyboard, screen readers, motion
cluster-group-label = the cluster: Tab reaches each node, link and message; press ? for the keys
node-label = n{ $id }: { $role }, term { $term }, voted for { $vote }
log-entry-label = index { $index }, term { $term }, { $state }: { $summary }
entry-committed = committed
entry-uncommitted = not committed
reduce-motion = reduce motion
reduce-motion-title = messages jump instead of fly, timers are numbers
announce-leader = n{ $id } became leader in term { $term }
announce-committed = entry { $index } committed
announce-crash = n{ $id } crashed
announce-restart = n{ $id } restarted
announce-pause = n{ $id } paused
announce-resume = n{ $id } resumed
announce-network = network: { $state }
announce-violation = safety violation: { $detail }
help-button = keys (?)
help-title = Keyboard
help-play = Space: play or pause
help-step = → or .: to the next event
help-nodes = Tab: to a node, a link or a message; on a node ← → ↑ ↓ move to the next node and Enter shows its details
help-node-actions = On a node: c crash, r restart, p pause or resume, i isolate, e start an election, l make it leader, s snapshot
help-links = On a link: Enter cuts or heals it both ways, Shift+Enter cuts one way
help-messages = On a message: Enter or Delete drops it
help-help = ?: show or hide these keys
timer-ticks = timer { $ticks }
