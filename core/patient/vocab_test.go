package patient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient/patienttest"
)

// TestVocabulary: providers and distinct cities, rebuilt only when the
// directory changed, for the roles that read patients only, unaudited.
func TestVocabulary(t *testing.T) {
	f := newFixture(t)
	pr := f.provider(t)
	a := input("V-1", "Ann", "Able")
	a.Address.City = "Springfield"
	f.create(t, a)
	b := input("V-2", "Bob", "Baker")
	b.Address.City = "springfield "
	f.create(t, b)
	f.create(t, input("V-3", "Cy", "Cole")) // Boston
	events := len(f.aud.Events())

	// The live-query echoes of the creates may still move the
	// directory's generation for a moment; once it holds still, asking
	// with the generation known rebuilds nothing.
	var v, same Vocabulary
	require.Eventually(t, func() bool {
		var fresh bool
		var err error
		if v, fresh, err = f.svc.Vocabulary(f.ctx, 0); err != nil || !fresh {
			return false
		}
		same, fresh, err = f.svc.Vocabulary(f.ctx, v.Generation)
		return err == nil && !fresh
	}, 5*time.Second, 20*time.Millisecond, "unchanged directory: nothing rebuilt")
	assert.Equal(t, []string{"Boston", "Springfield"}, v.Cities, "distinct, case-insensitively")
	require.Len(t, v.Providers, 1)
	assert.Equal(t, pr.Name, v.Providers[0].Name)
	assert.Equal(t, v.Generation, same.Generation)
	assert.Nil(t, same.Cities)

	d := input("V-4", "Di", "Dale")
	d.Address.City = "Denver"
	f.create(t, d)
	v2, fresh, err := f.svc.Vocabulary(f.ctx, v.Generation)
	require.NoError(t, err)
	assert.True(t, fresh)
	assert.Contains(t, v2.Cities, "Denver")

	_, _, err = f.svc.Vocabulary(patienttest.As(context.Background(), actor.RoleAuditor), 0)
	assert.ErrorIs(t, err, ErrNotAllowed)
	_, _, err = f.svc.Vocabulary(context.Background(), 0)
	assert.ErrorIs(t, err, ErrNotSignedIn)
	assert.Len(t, f.aud.Events(), events+1, "only the create was audited")
}

// TestNameWords: exact name words (folded) and MRNs of the directory,
// including a patient created a moment before; nothing else.
func TestNameWords(t *testing.T) {
	f := newFixture(t)
	f.create(t, input("NW-1", "José", "O'Brien-Smith"))
	got, err := f.svc.NameWords(f.ctx, []string{"jose", "JOSÉ", "obrien", "smith", "obriensmith", "NW-1", "nw-1", "brien", "show", "will"})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, true, true, true, true, true, false, false, false}, got)

	f.create(t, input("NW-2", "Will", "May"))
	got, err = f.svc.NameWords(f.ctx, []string{"will", "may", "june"})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, false}, got, "a patient created a moment before is known at once")

	_, err = f.svc.NameWords(patienttest.As(context.Background(), actor.RoleAuditor), []string{"will"})
	assert.ErrorIs(t, err, ErrNotAllowed)

	// While the directory reloads it cannot vouch for a word: fail closed.
	f.svc.dir.beginReload()
	_, err = f.svc.NameWords(f.ctx, []string{"will"})
	assert.ErrorIs(t, err, ErrDirectoryReloading)
	f.svc.dir.endReload(nil)
	_, err = f.svc.NameWords(f.ctx, []string{"will"})
	assert.NoError(t, err)
}
