# 演练场的中文用语。页面上的每个标签、按钮、提示、通知和标题都在这里（etcdctl 的输出和场景语言
# 保持原样：它们是代码）。术语与 lessons/zh/GLOSSARY.md 一致。

page-title = raftbook：运行中的 Raft 与 etcd
language = 语言

## 时间控制
play = 播放
pause = 暂停
play-title = 播放 / 暂停（空格键）
step = 单步
step-title = 前进到下一个事件（→）
speed = 速度
scrubber-title = 回到之前的任意时刻
time = t = { $seconds } 秒

## 新的运行、课程
nodes = 节点数
seed = 随机种子
new-run = 重新开始
lesson-title = 在集群旁打开一课
lessons = 课程……

## 网络
partition-title = 彼此能够通信的节点分组
partition = 分区
heal-all = 全部恢复
latency = 延迟
loss = 丢包
client-load = 客户端负载
load-off = 关
load-rate = 每秒 { $rate } 次 put
footer = 空格：播放/暂停 · →：单步 · 点击节点查看详情，点击连线将其切断，点击消息将其丢弃

## 成员的角色与状态
role-follower = 跟随者
role-pre-candidate = 预候选人
role-candidate = 候选人
role-leader = 领导者
role-learner = 学习者
role-down = 宕机
role-paused = 已暂停
progress-probe = 探测
progress-replicate = 复制
progress-snapshot = 快照

## 集群图
cluster-label = 集群
node-title = n{ $id }：点击查看详情
link-open = 连线 n{ $a }–n{ $b }：畅通（点击：双向切断，Shift+点击：单向切断）
link-cut = 连线 n{ $a }–n{ $b }：双向已切断（点击：恢复）
link-one-way = 连线 n{ $a }–n{ $b }：只有 n{ $from }→n{ $to } 可通（点击：恢复）
message-title = #{ $id } { $summary } n{ $from }→n{ $to }{ $reject }
    发送于 { $sent }ms，到达于 { $arrives }ms（点击丢弃）
message-reject = {" "}拒绝
messages-crowded = 传输中的消息太多，无法逐一标注：颜色表示消息类型。暂停后可以选中某条消息。
legend-label = 消息的颜色
legend-rejected = 被拒绝

## 日志
logs = 日志
log-commit = 提交 { $commit } 应用 { $applied }
log-snapshot = 快照 ≤{ $index }
log-snapshot-title = 已压缩进快照
log-progress = n{ $id } 已匹配 { $matched } 下一个 { $next } { $state }
leaders-view = 领导者视角：

## 选中的成员
member = 成员 n{ $id }
member-state = { $role } · 任期 { $term } · 投票给 { $vote } · 领导者 { $leader } · 提交 { $commit } · 应用 { $applied }
member-down = 宕机：只剩下它的磁盘
restart = 重启
restart-title = 从它的磁盘重新启动
resume = 恢复运行
resume-title = 让它继续运行
crash = 崩溃
crash-title = 断电：未同步落盘的写入会丢失
pause-node = 暂停
pause-node-title = 冻结它（类似 SIGSTOP）
isolate = 隔离
isolate-title = 切断它与所有成员的联系
campaign = 发起选举
campaign-title = 立即开始一次选举
make-leader = 设为领导者
make-leader-title = 请领导者把领导权交给它
snapshot = 快照
snapshot-title = 打快照并压缩它的日志
store-summary = 修订版本 { $revision } · 已压缩到 { $compacted } · 保留 { $versions } 个版本
column-key = 键
column-value = 值
column-create = 创建
column-mod = 修改
column-version = 版本
column-lease = 租约
leases = 租约
lease-left = 剩余 { $seconds } 秒
lease-leader-counts = （由领导者倒计时）
lease-line = { $id } TTL { $ttl } 秒，{ $left }，键 [{ $keys }]
watches = 监听
watch-line = 监听 { $id }：{ $key }{ $range }（下一个修订版本 { $next }）

## 控制台
console = 控制台
console-target-title = 命令发给哪个成员
to-leader = → 领导者

## 安全性
safety-violation = 安全性被破坏
safety-holds = ✔ 安全性成立：选举安全、领导者只追加、日志匹配、领导者完整性、状态机安全（Raft 论文图 3）

## 课程
answer-first = 请先回答上面的问题
run = 运行
running = 运行中……
run-all = 从这里运行全部
reset-to = 重置到这里
expected-output = 预期输出
predict = 预测：
right = 答对了。
not-quite = 不太对。
run-next = 运行下一个单元格就能看到。
exercise = 练习：
exercise-solved = 练习（已完成 ✔）：
real-cluster = 在真实集群上：
real-cluster-how = cluster> 开头的行输入到运行 raftbook cluster 的终端，$ 开头的行输入到另一个终端。
start-exercise = 开始练习
restart-exercise = 重新开始练习
check-answer = 检查我的答案
back = ◀ 上一步
next = 下一步 ▶
close = 关闭

## 通知
no-exercise = 课程 { $lesson } 中没有练习“{ $id }”
no-lesson = 没有名为“{ $lesson }”的课程
lessons-unavailable = 无法获取课程（{ $error }）：请刷新页面重试
lesson-waiting = 正在打开课程“{ $lesson }”…
link-unreadable = 无法读取这个链接：{ $error }
link-unreplayable = 无法重放这个链接：{ $error }
catching-up = 正在重放链接：{ $done } 秒 / { $of } 秒。重放完成前，运行控制按钮暂不可用。

## 键盘、读屏与动效
cluster-group-label = 集群：用 Tab 键可以到达每个节点、连线和消息；按 ? 查看按键
node-label = n{ $id }：{ $role }，任期 { $term }，投票给 { $vote }
log-entry-label = 索引 { $index }，任期 { $term }，{ $state }：{ $summary }
entry-committed = 已提交
entry-uncommitted = 未提交
reduce-motion = 减少动效
reduce-motion-title = 消息直接跳到位而不飞行，计时器显示为数字
announce-leader = n{ $id } 成为任期 { $term } 的领导者
announce-committed = 条目 { $index } 已提交
announce-crash = n{ $id } 崩溃了
announce-restart = n{ $id } 已重启
announce-pause = n{ $id } 已暂停
announce-resume = n{ $id } 恢复运行
announce-network = 网络：{ $state }
announce-violation = 安全性被破坏：{ $detail }
help-button = 按键（?）
help-title = 键盘操作
help-play = 空格：播放或暂停
help-step = → 或 .：前进到下一个事件
help-nodes = Tab：移到节点、连线或消息；在节点上用 ← → ↑ ↓ 换到下一个节点，Enter 查看详情
help-node-actions = 在节点上：c 崩溃，r 重启，p 暂停或恢复，i 隔离，e 发起选举，l 设为领导者，s 快照
help-links = 在连线上：Enter 双向切断或恢复，Shift+Enter 单向切断
help-messages = 在消息上：Enter 或 Delete 丢弃它
help-help = ?：显示或隐藏这些按键
timer-ticks = 计时 { $ticks }
