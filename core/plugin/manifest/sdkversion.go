package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// CheckSDK reports whether a plugin whose manifest says sdk: constraint
// can run on a host with SDK version host. The constraint is one version
// ("1.0.0": built against it) or space-separated comparisons
// (">=1.0.0 <2.0.0"); "^1.2.0" and "~1.2.0" are accepted too. The first
// version named is the one the plugin was built against: its major must
// equal the host's, and the host version must satisfy every comparison.
func CheckSDK(constraint, host string) error {
	hv, err := parseVersion(host)
	if err != nil {
		return fmt.Errorf("host SDK: %w", err)
	}
	terms := strings.Fields(strings.ReplaceAll(constraint, ",", " "))
	if len(terms) == 0 {
		return fmt.Errorf("required: the SDK version the plugin was built against, e.g. \">=1.0.0 <2.0.0\"")
	}
	for i, t := range terms {
		op := t[:len(t)-len(strings.TrimLeft(t, "<>=^~"))]
		v, err := parseVersion(t[len(op):])
		if err != nil {
			return fmt.Errorf("constraint %q: %w", constraint, err)
		}
		if i == 0 && v[0] != hv[0] {
			return fmt.Errorf("plugin built for SDK major %d, host SDK is %s (major %d): rebuild the plugin against SDK v%d", v[0], host, hv[0], hv[0])
		}
		c := compare(hv, v)
		ok := false
		switch op {
		case "", "=", "==", ">=":
			ok = c >= 0 // a newer minor/patch host serves older plugins
		case ">":
			ok = c > 0
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		case "^":
			ok = c >= 0 && hv[0] == v[0]
		case "~":
			ok = c >= 0 && hv[0] == v[0] && hv[1] == v[1]
		default:
			return fmt.Errorf("constraint %q: unknown operator %q", constraint, op)
		}
		if !ok {
			return fmt.Errorf("host SDK %s does not satisfy %q", host, constraint)
		}
	}
	return nil
}

type version [3]int

func parseVersion(s string) (version, error) {
	s = strings.TrimPrefix(s, "v")
	s, _, _ = strings.Cut(s, "+")
	s, _, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	var v version
	if len(parts) == 0 || len(parts) > 3 {
		return v, fmt.Errorf("%q is not a version", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("%q is not a version", s)
		}
		v[i] = n
	}
	return v, nil
}

func compare(a, b version) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
