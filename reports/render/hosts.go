package render

import "sort"

func sortHosts(hs []HostStat) {
	sort.SliceStable(hs, func(i, j int) bool {
		if hs[i].Live != hs[j].Live {
			return hs[i].Live > hs[j].Live
		}
		return hs[i].Host < hs[j].Host
	})
}

// Copies, Derivatives, Models and Uses count a host's live sightings by relation.
func (h HostStat) Copies() int      { return h.Rel["copy"] }
func (h HostStat) Derivatives() int { return h.Rel["derivative"] }
func (h HostStat) Models() int      { return h.Rel["trained-on"] }
func (h HostStat) Uses() int        { return h.Rel["uses"] }
