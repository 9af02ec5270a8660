package metrics

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psgate/psgate"
)

// shellCollector turns the gateway's shell counts into gauges when
// Prometheus scrapes, so that opening and closing a shell updates no
// metric on the request path. Only the top tenants by shells get their
// own series: the label set is bounded by TopTenants whatever the number
// of tenants.
type shellCollector struct {
	shells  func() []ShellCount
	top     int
	byTen   *prometheus.Desc
	node    *prometheus.Desc
	tenants *prometheus.Desc
}

func newShellCollector(shells func() []ShellCount, top int) *shellCollector {
	return &shellCollector{
		shells: shells,
		top:    top,
		byTen: prometheus.NewDesc(namespace+"_shells",
			"Shells open on this node by tenant, protocol and state (connected, disconnected); only the tenants with the most shells have their own series, the others are summed under tenant=\"(other)\".",
			[]string{"tenant", "protocol", "state"}, nil),
		node: prometheus.NewDesc(namespace+"_node_shells",
			"Shells open on this node by protocol and state, every tenant included.",
			[]string{"protocol", "state"}, nil),
		tenants: prometheus.NewDesc(namespace+"_shell_tenants",
			"Tenants holding at least one shell on this node.", nil, nil),
	}
}

func (c *shellCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byTen
	ch <- c.node
	ch <- c.tenants
}

// tally is one tenant's (or the node's) shells by protocol and state.
type tally [2][2]int // [kind][disconnected]

func (t *tally) add(sc ShellCount) {
	k, d := 0, 0
	if sc.Kind == psgate.KindPSRP {
		k = 1
	}
	if sc.Disconnected {
		d = 1
	}
	t[k][d] += sc.Shells
}

func (t *tally) total() int { return t[0][0] + t[0][1] + t[1][0] + t[1][1] }

var (
	kindLabels  = [2]string{string(psgate.KindWinRS), string(psgate.KindPSRP)}
	stateLabels = [2]string{"connected", "disconnected"}
)

// tenantTally is one tenant's shells.
type tenantTally struct {
	name string
	t    tally
	sum  int
}

// Collect counts the shells now: every tenant's, the node's, then the top
// tenants' series and the rest summed.
func (c *shellCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.shells()
	index := make(map[string]int, len(counts)/2+1)
	tenants := make([]tenantTally, 0, len(counts)/2+1)
	var node tally
	for _, sc := range counts {
		if sc.Shells == 0 {
			continue
		}
		node.add(sc)
		i, ok := index[sc.Tenant]
		if !ok {
			i = len(tenants)
			index[sc.Tenant] = i
			tenants = append(tenants, tenantTally{name: sc.Tenant})
		}
		tenants[i].t.add(sc)
	}
	for i := range tenants {
		tenants[i].sum = tenants[i].t.total()
	}
	top := max(c.top, 0)
	if len(tenants) > top {
		// Most shells first; equal counts by name, so that the series
		// shown do not flap between scrapes.
		slices.SortFunc(tenants, func(a, b tenantTally) int {
			if a.sum != b.sum {
				return cmp.Compare(b.sum, a.sum)
			}
			return cmp.Compare(a.name, b.name)
		})
	}
	var other tally
	for i, tt := range tenants {
		if i < top {
			c.emit(ch, c.byTen, &tt.t, tt.name)
			continue
		}
		for k := range other {
			for d := range other[k] {
				other[k][d] += tt.t[k][d]
			}
		}
	}
	c.emit(ch, c.byTen, &other, OtherTenants)
	c.emit(ch, c.node, &node, "")
	ch <- prometheus.MustNewConstMetric(c.tenants, prometheus.GaugeValue, float64(len(tenants)))
}

// emit sends the four protocol and state series of t, for tenant (or for
// the node when tenant is empty).
func (c *shellCollector) emit(ch chan<- prometheus.Metric, desc *prometheus.Desc, t *tally, tenant string) {
	for k := range t {
		for d := range t[k] {
			if tenant == "" {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(t[k][d]), kindLabels[k], stateLabels[d])
				continue
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(t[k][d]), tenant, kindLabels[k], stateLabels[d])
		}
	}
}

// leaseCollector reads the lease keeper's state when Prometheus scrapes.
type leaseCollector struct {
	state      func() LeaseState
	now        func() time.Time
	registered *prometheus.Desc
	draining   *prometheus.Desc
	deadline   *prometheus.Desc
}

func newLeaseCollector(state func() LeaseState, now func() time.Time) *leaseCollector {
	return &leaseCollector{
		state: state,
		now:   now,
		registered: prometheus.NewDesc(namespace+"_lease_registered",
			"1 while this node is registered in the store (it may hold quota leases), else 0.", nil, nil),
		draining: prometheus.NewDesc(namespace+"_lease_draining",
			"1 while this node drains (psgate node drain, or shutting down) and admits no new shell, else 0.", nil, nil),
		deadline: prometheus.NewDesc(namespace+"_lease_deadline_seconds",
			"Seconds until the lease renewal deadline: past it (negative) the node refuses shells and closes its own; 0 when not registered.", nil, nil),
	}
}

func (c *leaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.registered
	ch <- c.draining
	ch <- c.deadline
}

func (c *leaseCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	left := 0.0
	if s.Registered && !s.Deadline.IsZero() {
		left = s.Deadline.Sub(c.now()).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.registered, prometheus.GaugeValue, boolValue(s.Registered))
	ch <- prometheus.MustNewConstMetric(c.draining, prometheus.GaugeValue, boolValue(s.Draining))
	ch <- prometheus.MustNewConstMetric(c.deadline, prometheus.GaugeValue, left)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
