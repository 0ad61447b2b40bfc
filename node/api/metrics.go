package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names, as served at /metrics.
const (
	MetricHeight        = "inferd_height"
	MetricRound         = "inferd_consensus_round"
	MetricPeers         = "inferd_peers"
	MetricMempoolTxs    = "inferd_mempool_txs"
	MetricMempoolBytes  = "inferd_mempool_bytes"
	MetricBlockInterval = "inferd_block_interval_seconds"
	MetricTxsCommitted  = "inferd_txs_committed_total"
	MetricBlockTxs      = "inferd_block_txs"
	MetricGossipRejects = "inferd_gossip_rejects_total"
	MetricAPIRequests   = "inferd_api_requests_total"
)

// Metrics are the node's Prometheus metrics. The node updates them (from
// any goroutine); the server exposes them at /metrics together with the Go
// runtime and process collectors. Transactions per second is
// rate(inferd_txs_committed_total[1m]).
type Metrics struct {
	Height        prometheus.Gauge     // last committed height
	Round         prometheus.Gauge     // consensus round at the current height
	Peers         prometheus.Gauge     // connected peers
	MempoolTxs    prometheus.Gauge     // transactions in the mempool
	MempoolBytes  prometheus.Gauge     // their total size
	BlockInterval prometheus.Histogram // seconds between consecutive commits
	BlockTxs      prometheus.Histogram // transactions per committed block
	TxsCommitted  prometheus.Counter   // transactions committed (ok or failed)
	// GossipRejects counts gossip messages a topic validator rejected or
	// ignored, by topic and result ("reject" or "ignore").
	GossipRejects *prometheus.CounterVec
	apiRequests   *prometheus.CounterVec

	reg *prometheus.Registry
}

// NewMetrics registers the node's metrics in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Height:     prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricHeight, Help: "Last committed block height."}),
		Round:      prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricRound, Help: "Consensus round at the current height."}),
		Peers:      prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricPeers, Help: "Connected peers."}),
		MempoolTxs: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricMempoolTxs, Help: "Transactions in the mempool."}),
		MempoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricMempoolBytes,
			Help: "Total size of the transactions in the mempool, in bytes."}),
		BlockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricBlockInterval,
			Help:    "Seconds between consecutive block commits.",
			Buckets: []float64{.01, .025, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10, 30}}),
		BlockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricBlockTxs,
			Help: "Transactions per committed block.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		TxsCommitted: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricTxsCommitted,
			Help: "Transactions committed in blocks (rate() gives transactions per second)."}),
		GossipRejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricGossipRejects,
			Help: "Gossip messages refused by a topic validator, by topic and result (reject or ignore)."},
			[]string{"topic", "result"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricAPIRequests,
			Help: "HTTP API requests, by route and status code."}, []string{"route", "code"}),
		reg: prometheus.NewRegistry(),
	}
	m.reg.MustRegister(m.Height, m.Round, m.Peers, m.MempoolTxs, m.MempoolBytes, m.BlockInterval, m.BlockTxs,
		m.TxsCommitted, m.GossipRejects, m.apiRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
