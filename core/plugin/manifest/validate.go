package manifest

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pfinni/pfinni/sdk"
)

var (
	nameRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{2,47}$`)
	semverRE = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	intentRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	formatRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	hostRE   = regexp.MustCompile(`^[A-Za-z0-9*.-]+(:[0-9]+)?$`)
)

func validate(e *Entry, hostSDK string) *fieldErr {
	bad := func(path, format string, args ...any) *fieldErr {
		return &fieldErr{path: path, msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !nameRE.MatchString(e.Name):
		return bad("name", "%q must match %s", e.Name, nameRE)
	case !semverRE.MatchString(e.Version):
		return bad("version", "%q is not a semantic version", e.Version)
	case e.Kind != KindWASM && e.Kind != KindProcess:
		return bad("kind", "%q must be wasm or process", e.Kind)
	}
	if err := CheckSDK(e.SDK, hostSDK); err != nil {
		return bad("sdk", "%v", err)
	}
	a := e.Artifact
	switch {
	case a.Path == "":
		return bad("artifact.path", "required")
	case filepath.IsAbs(a.Path) || slices.Contains(strings.Split(filepath.ToSlash(a.Path), "/"), ".."):
		return bad("artifact.path", "%q must be relative to the manifest and stay below it", a.Path)
	case a.SHA256 != "" && !isSHA256(a.SHA256):
		return bad("artifact.sha256", "must be 64 lowercase hex digits (run `make plugins` to refresh)")
	}
	p := e.Provides
	if len(p.Intents) == 0 && len(p.ImportFormats) == 0 && len(p.KBTopics) == 0 && !p.Insurance {
		return bad("provides", "must declare at least one of intents, importFormats, kbTopics, insurance")
	}
	for i, in := range p.Intents {
		if !intentRE.MatchString(in.Name) {
			return bad(fmt.Sprintf("provides.intents[%d].name", i), "%q must be dotted lowercase words such as patients.list", in.Name)
		}
	}
	for i, f := range p.ImportFormats {
		if !formatRE.MatchString(f) {
			return bad(fmt.Sprintf("provides.importFormats[%d]", i), "%q is not a format name such as ccda", f)
		}
	}
	if p.Insurance && e.Kind != KindProcess {
		return bad("provides.insurance", "insurance adapters need the network and must be process plugins")
	}
	for i, c := range e.Capabilities {
		if !slices.Contains(sdk.Capabilities, c) {
			return bad(fmt.Sprintf("capabilities[%d]", i), "unknown capability %q (known: %s)", c, strings.Join(sdk.Capabilities, ", "))
		}
		if c == sdk.CapNetwork && e.Kind != KindProcess {
			return bad(fmt.Sprintf("capabilities[%d]", i), "network is for process plugins only")
		}
	}
	if len(e.Network.AllowedHosts) > 0 {
		if e.Kind != KindProcess || !e.Has(sdk.CapNetwork) {
			return bad("network.allowedHosts", "needs kind process and the network capability")
		}
		for i, h := range e.Network.AllowedHosts {
			if !hostRE.MatchString(h) {
				return bad(fmt.Sprintf("network.allowedHosts[%d]", i), "%q is not a host[:port]", h)
			}
			if strings.Contains(h, "*") && (!strings.HasPrefix(h, "*.") || strings.Count(h, "*") != 1 || len(h) < 4) {
				return bad(fmt.Sprintf("network.allowedHosts[%d]", i), "%q: a wildcard must be one leading label, as in *.example.com", h)
			}
		}
	}
	l := e.Limits
	switch {
	case l.Timeout < 0 || l.Timeout.Std() > 5*60*1e9:
		return bad("limits.timeout", "must be between 0 and 5m")
	case l.Memory != 0 && (l.Memory < MinMemory || l.Memory > MaxMemory):
		return bad("limits.memory", "must be between 16MiB and 1GiB")
	case l.Concurrency < 0 || l.Concurrency > MaxConcurrency:
		return bad("limits.concurrency", "must be between 1 and %d", MaxConcurrency)
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
