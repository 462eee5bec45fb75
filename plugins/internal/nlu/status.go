package nlu

// The patient statuses of the workflow.
const (
	Onboarding = "onboarding"
	Active     = "active"
	Inactive   = "inactive"
	Churned    = "churned"
)

// Statuses lists the statuses in workflow order.
func Statuses() []string { return []string{Onboarding, Active, Inactive, Churned} }

// statusPhrases maps phrases (corrected words) to statuses. Longer
// phrases are tried first, so "not active" wins over "active".
var statusPhrases = []struct {
	phrase string
	status string
}{
	{"not yet active", Onboarding},
	{"no longer active", Churned},
	{"not active", Inactive},
	{"being onboarded", Onboarding},
	{"in onboarding", Onboarding},
	{"on hold", Inactive},
	{"dropped out", Churned},
	{"in care", Active},
	{"onboarding", Onboarding},
	{"pending", Onboarding},
	{"intake", Onboarding},
	{"inactive", Inactive},
	{"dormant", Inactive},
	{"paused", Inactive},
	{"lapsed", Inactive},
	{"idle", Inactive},
	{"active", Active},
	{"current", Active},
	{"currently", Active},
	{"enrolled", Active},
	{"engaged", Active},
	{"churned", Churned},
	{"churn", Churned},
	{"churning", Churned},
	{"left", Churned},
	{"lost", Churned},
	{"former", Churned},
	{"departed", Churned},
	{"dropped", Churned},
	{"cancelled", Churned},
	{"canceled", Churned},
	{"gone", Churned},
	{"quit", Churned},
}

// FindStatuses returns the statuses m names, in the order they first
// appear, without duplicates, and marks the words used in used (which
// may be nil). "new" is not a status here; callers decide whether it
// means onboarding or recently created (see Extract).
func FindStatuses(m Message, used []bool) []string {
	type hit struct {
		pos    int
		status string
	}
	var hits []hit
	taken := make([]bool, m.Len())
	for _, sp := range statusPhrases {
		p := splitPhrase(sp.phrase)
		for i := 0; i+len(p) <= m.Len(); i++ {
			if !matchAt(m.Norm, i, p) || anyTaken(taken, i, len(p)) {
				continue
			}
			for j := range p {
				taken[i+j] = true
				if used != nil {
					used[i+j] = true
				}
			}
			hits = append(hits, hit{i, sp.status})
		}
	}
	// order by position
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && hits[j].pos < hits[j-1].pos; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	var out []string
	for _, h := range hits {
		if !containsStr(out, h.status) {
			out = append(out, h.status)
		}
	}
	return out
}

func matchAt(ws []string, i int, p []string) bool {
	if i+len(p) > len(ws) {
		return false
	}
	for j, w := range p {
		if ws[i+j] != w {
			return false
		}
	}
	return true
}

func anyTaken(taken []bool, i, n int) bool {
	for j := i; j < i+n; j++ {
		if taken[j] {
			return true
		}
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
