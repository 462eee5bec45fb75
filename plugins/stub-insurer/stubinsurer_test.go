package stubinsurer

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/insurance-x12/x12"
)

func ask(t *testing.T, h http.Handler, member string) (int, string) {
	t.Helper()
	x270, err := x12.Build270(x12.Inquiry{SenderID: "PFINNI", ReceiverID: "STUB", ControlNumber: 9, At: time.Now(),
		PayerName: "Acme", PayerID: "ACME", LastName: "Doe", FirstName: "Jane", MemberID: member})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/x12", strings.NewReader(x270)))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// Each member id prefix gets its documented answer, as a 271 that the
// reader accepts (except BAD, which it must refuse).
func TestScenarios(t *testing.T) {
	s := New(Options{})
	cases := map[string]string{"ACT1": "active", "act2": "active", "INA1": "inactive", "NF1": "not_found", "M000000001": "active"}
	for member, want := range cases {
		code, body := ask(t, s, member)
		require.Equal(t, http.StatusOK, code)
		r, err := x12.Parse271([]byte(body))
		require.NoError(t, err, member)
		assert.Equal(t, want, r.Status("30"), member)
		assert.Equal(t, strings.ToUpper(member), strings.ToUpper(r.MemberID))
	}

	_, body := ask(t, s, "BUSY1")
	r, err := x12.Parse271([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "error", r.Status("30"))
	rej, _ := r.FirstRejection()
	assert.Equal(t, "42", rej.Reason)
	assert.Equal(t, "2100A", rej.Loop, "the payer itself is busy")
	_, body = ask(t, s, "BUSY1")
	r, err = x12.Parse271([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status("30"), "answered on the retry")

	_, body = ask(t, s, "BAD1")
	_, err = x12.Parse271([]byte(body))
	require.ErrorIs(t, err, x12.ErrEnvelope)
	assert.Equal(t, 8, s.Received())
}

func TestRefusesWhatIsNotA270(t *testing.T) {
	s := New(Options{})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x12", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/x12", strings.NewReader("ISA*garbage~")))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, 0, s.Received())
}
