package chat

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// The SDK's filter keys and missing values (what plugins put in a data
// answer) are exactly what the patient directory accepts.
func TestSDKPatientQueryIsWhatTheDirectoryAccepts(t *testing.T) {
	sample := map[string]string{
		sdk.FilterText: "chen", sdk.FilterStatus: "active,churned", sdk.FilterProvider: "provider:1", sdk.FilterCity: "Boston",
		sdk.FilterTag: "vip", sdk.FilterAgeMin: "40", sdk.FilterAgeMax: "60", sdk.FilterBirthdayWithinDays: "30",
		sdk.FilterCreatedFrom: "2026-01-01", sdk.FilterCreatedTo: "2026-02-01", sdk.FilterUpdatedFrom: "2026-01-01",
		sdk.FilterUpdatedTo: "2026-02-01", sdk.FilterStatusChangedFrom: "2026-01-01", sdk.FilterStatusChangedTo: "2026-02-01",
		sdk.FilterMissing: sdk.MissingEmail, sdk.FilterSort: "last_name", sdk.FilterLimit: "5",
	}
	require.Len(t, sample, len(sdk.PatientFilterKeys()), "a sample value for every key")
	for _, k := range sdk.PatientFilterKeys() {
		t.Run(k, func(t *testing.T) {
			_, err := patient.ParseFilter(url.Values{k: {sample[k]}}, time.UTC)
			assert.NoError(t, err)
		})
	}
	for _, m := range sdk.MissingValues() {
		t.Run("missing="+m, func(t *testing.T) {
			f, err := patient.ParseFilter(url.Values{sdk.FilterMissing: {m}}, time.UTC)
			require.NoError(t, err)
			assert.Equal(t, []string{m}, f.Missing)
		})
	}
	_, err := patient.ParseFilter(url.Values{sdk.FilterMissing: {"fax"}}, time.UTC)
	assert.Error(t, err, "a value outside sdk.MissingValues is refused")
}

// statsForPlugins carries every figure of patient.Stats but the time it
// was computed: the JSON of both has the same fields and values.
func TestStatsForPluginsKeepsEveryFigure(t *testing.T) {
	st := patient.Stats{
		Total: 3, ByStatus: map[patient.Status]int{"active": 2, "churned": 1},
		NewPerWeek:         []patient.Bucket{{Start: "2026-03-16", Count: 1}},
		NewPerMonth:        []patient.Bucket{{Start: "2026-03-01", Count: 3}},
		TransitionsPerWeek: []patient.TransitionBucket{{Start: "2026-03-16", Counts: map[string]int{"active->churned": 1}, Total: 1}},
		UpcomingBirthdays:  1, BirthdayDays: 30, StuckOnboarding: 2, StuckDays: 14,
		Missing: map[string]int{sdk.MissingEmail: 2}, AsOf: time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC),
	}
	var core, plug map[string]any
	b, err := json.Marshal(st)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &core))
	b, err = json.Marshal(statsForPlugins(st))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &plug))
	delete(core, "as_of")
	assert.Equal(t, core, plug)
}
