package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// providerIndex finds providers by NPI and by normalised name. It is
// loaded once per job and kept current with the providers the job
// creates.
type providerIndex struct {
	byNPI  map[string]string
	byName map[string]string
}

func (x *providerIndex) add(p patient.Provider) {
	if p.NPI != "" {
		x.byNPI[p.NPI] = p.ID
	}
	if k := providerKey(p.Name); k != "" {
		if _, ok := x.byName[k]; !ok {
			x.byName[k] = p.ID
		}
	}
}

// loadProviders indexes the providers held.
func (s *Service) loadProviders(ctx context.Context) (*providerIndex, error) {
	list, err := s.d.Providers.ListProviders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	x := &providerIndex{byNPI: map[string]string{}, byName: map[string]string{}}
	for _, p := range list {
		x.add(p)
	}
	return x, nil
}

// find returns the provider rp names, by NPI, else by name ("" when
// none), with the name and its key (key "" when rp names nobody).
func (x *providerIndex) find(rp *sdk.Provider) (id, name, key string) {
	name = strings.TrimSpace(rp.Name)
	if name == "" {
		name = strings.TrimSpace(rp.Organization)
	}
	key = providerKey(name)
	if rp.NPI != "" {
		if id, ok := x.byNPI[rp.NPI]; ok {
			return id, name, key
		}
	}
	if key == "" {
		return "", name, key
	}
	return x.byName[key], name, key
}

// titles are dropped when names are compared.
var titles = []string{"dr", "md", "do", "np", "rn", "pa", "phd", "mr", "mrs", "ms", "miss", "prof", "facp", "faafp", "jr", "sr"}

// providerKey normalises a provider name: case, accents, punctuation,
// titles and word order do not matter ("Dr. Henry Seven" = "SEVEN, HENRY MD").
func providerKey(name string) string {
	words := foldWords(name)
	words = slices.DeleteFunc(words, func(w string) bool { return slices.Contains(titles, w) })
	slices.Sort(words)
	return strings.Join(words, " ")
}

// resolveProvider returns the id of the provider the record names,
// matched by NPI, else by name, else created. Failing that is a warning:
// the patient is imported without a provider.
func (s *Service) resolveProvider(ctx context.Context, jc *jobCtx, format string, rp *sdk.Provider) (string, []Problem, error) {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	if jc.providers == nil {
		x, err := s.loadProviders(ctx)
		if err != nil {
			return "", nil, err
		}
		jc.providers = x
	}
	id, name, key := jc.providers.find(rp)
	if id != "" || key == "" {
		return id, nil, nil
	}
	in := patient.ProviderInput{Name: name, NPI: rp.NPI, Phone: rp.Phone, Organization: rp.Organization}
	var probs []Problem
	for attempt := 0; attempt < 3; attempt++ {
		p, err := s.d.Providers.CreateProvider(ctx, in)
		if err == nil {
			jc.providers.add(p)
			return p.ID, probs, nil
		}
		var fields fault.Fields
		if !errors.As(err, &fields) {
			return "", nil, fmt.Errorf("create provider: %w", err)
		}
		retry := false
		for _, fe := range fields {
			switch fe.Field {
			case "phone":
				in.Phone, retry = "", true
			case "organization":
				in.Organization, retry = "", true
			case "npi":
				in.NPI, retry = "", true
			case "email":
				in.Email, retry = "", true
			case "specialty":
				in.Specialty, retry = "", true
			}
		}
		if !retry {
			break
		}
	}
	probs = append(probs, warnAt(format, "provider_id", "the responsible provider named in the document could not be recorded (its name is missing or too long); the patient was imported without a provider"))
	return "", probs, nil
}
