package patient

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu  sync.Mutex
	got []Committed
}

func (r *recorder) PatientChanged(_ context.Context, c Committed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, c)
}

func TestObserverHearsOnlyCommittedWrites(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, WithObserver(rec))
	p := f.create(t, input("MRN-OBS", "Ada", "Observer"))
	_, err := f.svc.Create(f.ctx, input("MRN-OBS", "Dup", "Licate"))
	require.Error(t, err, "duplicate MRN")

	city := "Salem"
	up, err := f.svc.Update(f.ctx, p.ID, p.Version, Patch{Address: &AddressPatch{City: &city}})
	require.NoError(t, err)
	_, err = f.svc.Update(f.ctx, p.ID, p.Version, Patch{Address: &AddressPatch{City: &city}})
	require.Error(t, err, "stale version")
	_, err = f.svc.Update(f.ctx, p.ID, up.Version, Patch{Address: &AddressPatch{City: &city}})
	require.NoError(t, err, "no change: nothing to tell")
	st, err := f.svc.ChangeStatus(f.ctx, p.ID, StatusActive, "", up.Version)
	require.NoError(t, err)
	_, err = f.svc.ChangeStatus(f.ctx, p.ID, StatusOnboarding, "", 0)
	require.Error(t, err, "forbidden transition")
	require.NoError(t, f.svc.Delete(f.admin, p.ID, st.Version))

	assert.Equal(t, []Committed{
		{Action: CommittedCreate, PatientID: p.ID, Version: 1},
		{Action: CommittedUpdate, PatientID: p.ID, Version: 2, Fields: []string{"address.city"}},
		{Action: CommittedStatus, PatientID: p.ID, Version: 3, From: StatusOnboarding, To: StatusActive},
		{Action: CommittedDelete, PatientID: p.ID},
	}, rec.got)
}
