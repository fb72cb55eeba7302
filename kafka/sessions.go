package kafka

import (
	"cmp"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// sessionKeeper expires the embedded broker's group members whose client
// went away while a join or sync was pending.
//
// kfake starts a member's session timer only when a reply reaches it
// (groups.go, reply()), so a consumer killed while its JoinGroup waits
// stays a member: it keeps the partitions the next generation gives it,
// with no session timer, and the next rebalance waits its whole
// max.poll.interval.ms for it to rejoin. No newer kfake is served with
// the fix. The keeper does what that timer would: a member whose
// connection (the one kfake recorded at its first JoinGroup) is closed,
// that has sent nothing since, and that has been silent for its session
// timeout, is removed with a LeaveGroup, as a real broker expires it. A
// member that spoke after its connection closed (it reconnected, or
// joins on another connection) or that the keeper never heard (restored
// from the data directory) is left to kfake's own timers.
type sessionKeeper struct {
	log     *slog.Logger
	started time.Time
	dial    func() (*kgo.Client, error)

	cluster *kfake.Cluster

	mu       sync.Mutex
	observed int                  // requests observed
	conns    map[string]time.Time // remote address -> when closed; zero while open
	members  map[string]*memberSeen
	groups   map[string]bool
	client   *kgo.Client
}

type memberSeen struct {
	last    time.Time     // the member's last request
	session time.Duration // its session timeout, from its JoinGroup
}

// defaultSessionTimeout is librdkafka's session.timeout.ms, for a member
// whose JoinGroup the keeper did not see.
const defaultSessionTimeout = 45 * time.Second

// keeperTick is how often the keeper looks at the groups.
const keeperTick = time.Second

func newSessionKeeper(log *slog.Logger) *sessionKeeper {
	return &sessionKeeper{
		log:     log,
		started: time.Now(),
		conns:   make(map[string]time.Time),
		members: make(map[string]*memberSeen),
		groups:  make(map[string]bool),
	}
}

// observe notes which member sent req. It is a control function that
// handles nothing; the cluster waits for it, so it only records. Every
// observeRenew requests it hands its place to a fresh copy: kfake keeps,
// per control function, the last request of every connection it saw.
func (k *sessionKeeper) observe(req kmsg.Request) (kmsg.Response, error, bool) {
	var member string
	k.mu.Lock()
	defer k.mu.Unlock()
	switch r := req.(type) {
	case *kmsg.JoinGroupRequest:
		k.groups[r.Group] = true
		if r.MemberID != "" {
			k.members[r.MemberID] = &memberSeen{session: time.Duration(r.SessionTimeoutMillis) * time.Millisecond}
		}
		member = r.MemberID
	case *kmsg.SyncGroupRequest:
		member = r.MemberID
	case *kmsg.HeartbeatRequest:
		member = r.MemberID
	case *kmsg.OffsetCommitRequest:
		member = r.MemberID
	case *kmsg.TxnOffsetCommitRequest:
		member = r.MemberID
	}
	if m := k.members[member]; m != nil {
		m.last = time.Now()
	}
	if k.observed++; k.observed%observeRenew == 0 && k.cluster != nil {
		k.cluster.DropControl()
		k.cluster.ControlKey(req.Key(), k.observe)
	}
	return nil, nil, false
}

// observeRenew is how many requests an observer sees before it is
// replaced.
const observeRenew = 10000

// install registers the keeper's observers with the cluster.
func (k *sessionKeeper) install(c *kfake.Cluster) {
	k.cluster = c
	for _, key := range []kmsg.Key{kmsg.JoinGroup, kmsg.SyncGroup, kmsg.Heartbeat, kmsg.OffsetCommit, kmsg.TxnOffsetCommit} {
		c.ControlKey(key.Int16(), k.observe)
	}
}

// run checks the groups every keeperTick until done is closed.
func (k *sessionKeeper) run(c *kfake.Cluster, done <-chan struct{}) {
	t := time.NewTicker(keeperTick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			for _, e := range k.expired(c, now) {
				select {
				case <-done:
					return
				default:
				}
				k.evict(e)
			}
		}
	}
}

type expiredMember struct {
	group, member, host string
	idle                time.Duration
}

// expired returns the members whose connection is closed and whose
// session timed out since.
func (k *sessionKeeper) expired(c *kfake.Cluster, now time.Time) []expiredMember {
	k.mu.Lock()
	groups := make([]string, 0, len(k.groups))
	for g := range k.groups {
		groups = append(groups, g)
	}
	k.mu.Unlock()
	var out []expiredMember
	inUse := make(map[string]bool)
	for _, g := range groups {
		info := c.GroupInfo(g) // through the cluster's loop: not under k.mu
		k.mu.Lock()
		if info == nil {
			delete(k.groups, g)
			k.mu.Unlock()
			continue
		}
		for _, m := range info.Members {
			inUse[m.ClientHost] = true
			seen := k.members[m.MemberID]
			if seen == nil {
				seen = &memberSeen{}
				k.members[m.MemberID] = seen
			}
			if seen.last.IsZero() {
				seen.last = now
			}
			closed, known := k.conns[m.ClientHost]
			if !known {
				closed = k.started // a connection from before this broker started (restored group)
			}
			if closed.IsZero() || !seen.last.Before(closed) {
				continue // open, or the member spoke since (on another connection)
			}
			session := cmp.Or(seen.session, defaultSessionTimeout)
			if idle := now.Sub(closed); idle >= session {
				out = append(out, expiredMember{group: g, member: m.MemberID, host: m.ClientHost, idle: now.Sub(seen.last)})
			}
		}
		k.mu.Unlock()
	}
	k.mu.Lock()
	for addr, closed := range k.conns {
		if !closed.IsZero() && !inUse[addr] && now.Sub(closed) > 10*time.Minute {
			delete(k.conns, addr)
		}
	}
	for id, m := range k.members {
		if now.Sub(m.last) > 10*time.Minute+m.session {
			delete(k.members, id)
		}
	}
	k.mu.Unlock()
	return out
}

func (k *sessionKeeper) evict(e expiredMember) {
	k.mu.Lock()
	client, err := k.client, error(nil)
	if client == nil {
		client, err = k.dial()
		k.client = client
	}
	k.mu.Unlock()
	if err != nil {
		k.log.Error("broker: cannot remove a dead group member", "group", e.group, "member", e.member, "error", err.Error())
		return
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = e.group
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = e.member
	req.Members = append(req.Members, lm)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, client)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
		for _, m := range resp.Members {
			err = cmp.Or(err, kerr.ErrorForCode(m.ErrorCode))
		}
	}
	if err != nil {
		k.log.Warn("broker: cannot remove a dead group member", "group", e.group, "member", e.member, "error", err.Error())
		return
	}
	k.log.Info("broker: removed a group member whose client went away", "group", e.group, "member", e.member,
		"client", e.host, "silent_for", e.idle.Round(time.Second).String())
}

func (k *sessionKeeper) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.client != nil {
		k.client.Close()
		k.client = nil
	}
}

// listener wraps ln so the keeper knows when each client connection
// closes.
func (k *sessionKeeper) listener(ln net.Listener) net.Listener {
	return &keeperListener{Listener: ln, k: k}
}

func (k *sessionKeeper) opened(addr string) {
	k.mu.Lock()
	k.conns[addr] = time.Time{}
	k.mu.Unlock()
}

func (k *sessionKeeper) closed(addr string) {
	k.mu.Lock()
	if t, ok := k.conns[addr]; !ok || t.IsZero() {
		k.conns[addr] = time.Now()
	}
	k.mu.Unlock()
}

type keeperListener struct {
	net.Listener
	k *sessionKeeper
}

func (l *keeperListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	addr := c.RemoteAddr().String()
	l.k.opened(addr)
	return &keeperConn{Conn: c, k: l.k, addr: addr}, nil
}

// keeperConn marks its connection closed on a read error (the client
// went away) or when the broker closes it.
type keeperConn struct {
	net.Conn
	k    *sessionKeeper
	addr string
}

func (c *keeperConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.k.closed(c.addr)
	}
	return n, err
}

func (c *keeperConn) Close() error {
	c.k.closed(c.addr)
	return c.Conn.Close()
}

// keeperClient returns how the keeper connects to its own broker: the
// listener's TLS (certificates unchecked: it is this process) and the
// first SASL user.
func keeperClient(addr string, cfg BrokerConfig) func() (*kgo.Client, error) {
	return func() (*kgo.Client, error) {
		opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ClientID("qstar-broker-session-keeper")}
		if cfg.TLS != nil {
			opts = append(opts, kgo.DialTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // dials this process's own listener
		}
		if len(cfg.Users) > 0 {
			opts = append(opts, kgo.SASL(saslMechanism(cfg.Users[0])))
		}
		return kgo.NewClient(opts...)
	}
}

func saslMechanism(u User) sasl.Mechanism {
	switch u.Mechanism {
	case "SCRAM-SHA-256":
		return scram.Auth{User: u.Name, Pass: u.Password}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: u.Name, Pass: u.Password}.AsSha512Mechanism()
	}
	return plain.Auth{User: u.Name, Pass: u.Password}.AsMechanism()
}
