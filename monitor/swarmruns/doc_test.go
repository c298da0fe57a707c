// Package swarmruns_test runs whole monitoring runs (monitor.Run) with the swarm source: against
// the demo world's tracker, and against a real loopback swarm (opentracker, aria2, qBittorrent).
// They live beside monitor, not in crawler/swarm, so nothing under crawler/ depends on monitor.
package swarmruns_test
